import { useRef } from 'react';
import { useStudio } from '../studio';
import { selectShownIndex } from '../store';
import { useRafEffect } from '../hooks/useRafCallback';
import { drawGray, drawOverlay } from '../render';
import { imageGray, maskBits, maskGray } from '../display';

/** The live views: mask estimate x̂₀ and image estimate ŷ₀ side by side, and the overlay. */
export function Views() {
  const model = useStudio((s) => s.model);
  const frames = useStudio((s) => s.frames);
  const cursor = useStudio((s) => s.cursor);
  const stretch = useStudio((s) => s.stretch);
  const result = useStudio((s) => s.result);
  const maskRef = useRef<HTMLCanvasElement>(null);
  const imageRef = useRef<HTMLCanvasElement>(null);
  const overlayRef = useRef<HTMLCanvasElement>(null);

  const shown = selectShownIndex({ frames, cursor });
  const frame = shown >= 0 ? frames[shown] : undefined;
  const [height, width] = model?.resolution ?? [0, 0];

  useRafEffect(() => {
    const maskCanvas = maskRef.current;
    const imageCanvas = imageRef.current;
    const overlayCanvas = overlayRef.current;
    if (!maskCanvas || !imageCanvas || !overlayCanvas) return;
    if (!frame || width === 0) {
      for (const c of [maskCanvas, imageCanvas, overlayCanvas]) c.getContext('2d')?.clearRect(0, 0, c.width, c.height);
      return;
    }
    const image = imageGray(frame.y0, width, height, stretch);
    drawGray(maskCanvas, maskGray(frame.x0), width, height);
    drawGray(imageCanvas, image, width, height);
    // The final frame's B(x̂₀) is the saved mask; earlier frames binarise their own estimate.
    const isFinal = result !== null && frame.index === frame.total - 1;
    drawOverlay(overlayCanvas, image, isFinal ? result.mask : maskBits(frame.x0, width, height), width, height);
  }, [frame, stretch, result, width, height]);

  const caption = frame ? `step ${frame.index + 1} of ${frame.total}, t = ${frame.t}` : 'no run yet';
  return (
    <div className="views" data-empty={frame ? undefined : 'true'}>
      <figure className="view">
        <canvas ref={maskRef} role="img" aria-label={`Mask estimate x̂₀, ${caption}`} data-view="mask" />
        <figcaption>
          Mask <span className="sym">x̂₀</span>
        </figcaption>
      </figure>
      <figure className="view">
        <canvas ref={imageRef} role="img" aria-label={`Image estimate ŷ₀, ${caption}`} data-view="image" />
        <figcaption>
          Image <span className="sym">ŷ₀</span>
          {stretch ? <span className="tag">stretched</span> : null}
        </figcaption>
      </figure>
      <figure className="view">
        <canvas ref={overlayRef} role="img" aria-label={`Overlay of the mask on the image, ${caption}`} data-view="overlay" />
        <figcaption>
          Overlay <span className="sym">B(x̂₀)</span> on <span className="sym">ŷ₀</span>
        </figcaption>
      </figure>
    </div>
  );
}
