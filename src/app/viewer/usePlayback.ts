import { useEffect } from 'react';
import { useStudio } from '../page-studio';

/** While the timeline plays, advances it one step every `intervalMs`. */
export function usePlayback(intervalMs = 120): void {
  const playing = useStudio((s) => s.playing);
  const tick = useStudio((s) => s.tick);
  useEffect(() => {
    if (!playing) return;
    const id = setInterval(tick, intervalMs);
    return () => clearInterval(id);
  }, [playing, tick, intervalMs]);
}
