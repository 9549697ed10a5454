import { useState } from 'react';
import { pairBaseName } from '../format';
import { useStudio } from '../page-studio';
import { useViewer } from '../viewer/viewer-store';
import { saveFile } from './download';
import { encodeContactSheet, encodeRunAnimation, framesAsShown } from './exports';
import { chooseSteps, DEFAULT_SHEET_STEPS, type StepChoice } from './step-choice';

type ChoiceKind = StepChoice['kind'];

const CHOICE_INPUT: Record<ChoiceKind, { label: string; placeholder: string; title: string }> = {
  even: { label: 'Number of steps', placeholder: String(DEFAULT_SHEET_STEPS), title: 'Evenly spaced, the first and the last included' },
  every: { label: 'Every k-th step', placeholder: '4', title: 'Steps 1, 1 + k, 1 + 2k, … and the last' },
  list: { label: 'Step list', placeholder: '1, 4, 8-10', title: 'Step numbers (1 … n) and ranges' },
};

/** "Export animation" (APNG of every step) and "Export contact sheet" (PNG grid of chosen steps). */
export function TimelineExports() {
  const model = useStudio((s) => s.model);
  const frames = useStudio((s) => s.frames);
  const phase = useStudio((s) => s.phase);
  const stretch = useStudio((s) => s.stretch);
  const runSeed = useStudio((s) => s.runSeed);
  const runSteps = useStudio((s) => s.runSteps);
  const result = useStudio((s) => s.result);
  const decoded = useStudio((s) => s.decoded);
  const showError = useStudio((s) => s.showError);
  // The animation follows the viewer: side by side or overlaid, at its fill opacity.
  const layout = useViewer((s) => s.layout);
  const overlayOpacity = useViewer((s) => s.overlayOpacity);
  const [kind, setKind] = useState<ChoiceKind>('even');
  const [text, setText] = useState<Record<ChoiceKind, string>>({ even: String(DEFAULT_SHEET_STEPS), every: '4', list: '' });
  const [busy, setBusy] = useState<'animation' | 'sheet' | null>(null);

  const disabled = frames.length === 0 || model === null || phase === 'running' || phase === 'cancelling' || busy !== null;
  const [height, width] = model?.resolution ?? [0, 0];
  const base = model ? pairBaseName(model.name, runSeed ?? 0, runSteps) : '';

  const run = async (what: 'animation' | 'sheet', work: () => Promise<void>) => {
    setBusy(what);
    try {
      // Let "Exporting…" paint before the frames are composed (a long run takes seconds).
      await new Promise((resolve) => setTimeout(resolve, 0));
      await work();
    } catch (e) {
      showError(`Export failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setBusy(null);
    }
  };

  const exportAnimation = () =>
    run('animation', async () => {
      const bytes = await encodeRunAnimation(framesAsShown(frames, decoded, result), width, height, { stretch, layout, overlayOpacity, result });
      saveFile(bytes, `${base}_animation.png`, 'image/apng');
    });

  const exportSheet = () =>
    run('sheet', async () => {
      const value = text[kind];
      const choice: StepChoice = kind === 'list' ? { kind, text: value } : kind === 'even' ? { kind, count: Number(value) } : { kind, k: Number(value) };
      const indexes = chooseSteps(choice, frames.length);
      if (typeof indexes === 'string') throw new Error(indexes);
      const sheet = await encodeContactSheet(framesAsShown(frames, decoded, result), indexes, width, height, stretch);
      saveFile(sheet.bytes, `${base}_contact-sheet.png`);
    });

  const input = CHOICE_INPUT[kind];
  return (
    <div className="timeline-exports" role="group" aria-label="Export the run">
      <button
        type="button"
        onClick={() => void exportAnimation()}
        disabled={disabled}
        title="Every step as an animated PNG: mask | image, or the overlay when the viewer's layout is Overlaid"
      >
        {busy === 'animation' ? 'Exporting…' : 'Export animation'}
      </button>
      <span className="sheet-choice">
        <select aria-label="Contact sheet steps" value={kind} onChange={(e) => setKind(e.currentTarget.value as ChoiceKind)}>
          <option value="even">Evenly spaced</option>
          <option value="every">Every k-th step</option>
          <option value="list">Listed steps</option>
        </select>
        <input
          type="text"
          aria-label={input.label}
          title={input.title}
          placeholder={input.placeholder}
          value={text[kind]}
          onChange={(e) => {
            const v = e.currentTarget.value;
            setText((t) => ({ ...t, [kind]: v }));
          }}
        />
      </span>
      <button type="button" onClick={() => void exportSheet()} disabled={disabled} title="The chosen steps as a PNG grid, t above each">
        {busy === 'sheet' ? 'Exporting…' : 'Export contact sheet'}
      </button>
    </div>
  );
}
