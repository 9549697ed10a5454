import type { ModeKind } from '../../worker/api';
import { useStudio } from '../page-studio';

const MODES: { kind: ModeKind; label: string; hint: string }[] = [
  { kind: 'pair', label: 'Pair', hint: 'A new lesion mask and its image, both generated.' },
  { kind: 'maskToImage', label: 'Mask → image', hint: 'An image for a mask you draw or upload.' },
  {
    kind: 'imageToMask',
    label: 'Image → mask',
    // measured (EVALUATION.md): busbra64 Dice 0.28, busbra256's first candidate 0.30, a trained segmenter 0.85
    hint: 'The lesion mask of an image you upload. A sketch, not a segmentation: the mask model sees the image only through noise (the bundled models reach Dice 0.28–0.30 on held-out images, a trained segmenter 0.85).',
  },
];

/** What Generate starts from: nothing, a mask, or an image (METHOD.md, "Three ways"). */
export function ModeSelector() {
  const mode = useStudio((s) => s.mode);
  const phase = useStudio((s) => s.phase);
  const setMode = useStudio((s) => s.setMode);
  const running = phase === 'running' || phase === 'cancelling';
  return (
    // biome-ignore lint/a11y/noNoninteractiveElementToInteractiveRole: the fieldset groups the mode radios; radiogroup names it as screen readers expect
    <fieldset className="modes" role="radiogroup" aria-label="Mode" disabled={running}>
      <legend>Mode</legend>
      {MODES.map((m) => (
        <label key={m.kind} className="mode" title={m.hint}>
          <input type="radio" name="mode" value={m.kind} checked={mode === m.kind} onChange={() => setMode(m.kind)} />
          {m.label}
        </label>
      ))}
    </fieldset>
  );
}
