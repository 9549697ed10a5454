import { useEffect, useRef } from 'react';

/**
 * Runs `draw` on the next animation frame after its dependencies change, at most once per frame:
 * a burst of store updates (streamed frames, a fast scrub) costs one draw.
 */
export function useRafEffect(draw: () => void, deps: readonly unknown[]): void {
  const drawRef = useRef(draw);
  drawRef.current = draw;
  const pending = useRef<number | null>(null);
  useEffect(() => {
    if (pending.current !== null) return;
    pending.current = requestAnimationFrame(() => {
      pending.current = null;
      drawRef.current();
    });
    // biome-ignore lint/correctness/useExhaustiveDependencies: the caller's deps decide when to redraw; draw itself is read through a ref
  }, deps);
  useEffect(
    () => () => {
      if (pending.current !== null) cancelAnimationFrame(pending.current);
    },
    [],
  );
}
