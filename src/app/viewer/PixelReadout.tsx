import { useMemo } from 'react';
import { useStudio } from '../page-studio';
import { selectShownImage, selectShownIndex } from '../store/store';
import { frameMaskBits } from './display';
import { pixelReadout } from './viewer-math';
import { useViewer } from './viewer-store';

/** The data at the pixel under the pointer: ŷ₀ as 8-bit and in model units, x̂₀ and B(x̂₀). */
export function PixelReadout() {
  const model = useStudio((s) => s.model);
  const frames = useStudio((s) => s.frames);
  const cursor = useStudio((s) => s.cursor);
  const result = useStudio((s) => s.result);
  const decoded = useStudio((s) => s.decoded);
  const hover = useViewer((s) => s.hover);

  const shown = selectShownIndex({ frames, cursor });
  const frame = shown >= 0 ? frames[shown] : undefined;
  const [height, width] = model?.resolution ?? [0, 0];
  // B(x̂₀) once per frame, not per pointer move.
  const bits = useMemo(() => (frame && width > 0 ? frameMaskBits(frame, result, width, height) : null), [frame, result, width, height]);
  // the image the pane shows (a latent model's decoded step or its preview)
  const image = selectShownImage({ frames, cursor, result, decoded })?.image;
  const r = frame && image && bits && hover && hover.x < width && hover.y < height ? pixelReadout(hover.x, hover.y, width, image, frame.x0, bits) : null;

  return (
    <div className="readout" role="group" aria-label="Pixel readout" data-x={r?.x} data-y={r?.y} data-image8={r?.image8} data-mask-bit={r?.maskBit}>
      {r ? (
        <>
          <span>
            x {r.x}, y {r.y}
          </span>
          <span>
            image <strong>{r.image8}</strong> / 255 ({r.imageModel.toFixed(3)})
          </span>
          <span>
            mask <span className="sym">x̂₀</span> {r.maskModel.toFixed(3)}, B = <strong>{r.maskBit}</strong>
          </span>
        </>
      ) : (
        <span className="muted">Point at a view to read its pixel.</span>
      )}
    </div>
  );
}
