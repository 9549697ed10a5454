import { CLIP_MODES, type ClipMode } from '../../core/ddim';
import { MAX_SEED } from '../../core/limits';
import { MAX_STEPS } from '../config';
import { downloadPair } from '../exports/download';
import { useStudio } from '../page-studio';
import { Blocker, StoreForm } from '../shell/Form';
import { selectGenerateBlocker } from '../store/store';
import { AttributeControls } from './AttributeControls';
import { ModeSelector } from './ModeSelector';

/** What each value of the sampler option clip does (docs/contracts.md §2b). */
const CLIP_LABELS: Record<ClipMode, string> = {
  none: 'None (the paper’s loop)',
  image: 'Image ŷ₀',
  both: 'Mask x̂₀ and image ŷ₀',
};

/** Mode, seed, steps and clip, Generate / Cancel / Download pair. (Display options live in the viewer toolbar.) */
export function Controls() {
  const phase = useStudio((s) => s.phase);
  const model = useStudio((s) => s.model);
  const seedText = useStudio((s) => s.seedText);
  const stepsText = useStudio((s) => s.stepsText);
  const clip = useStudio((s) => s.clip);
  const setClip = useStudio((s) => s.setClip);
  const result = useStudio((s) => s.result);
  const setSeedText = useStudio((s) => s.setSeedText);
  const setStepsText = useStudio((s) => s.setStepsText);
  const randomizeSeed = useStudio((s) => s.randomizeSeed);
  const generate = useStudio((s) => s.generate);
  const cancel = useStudio((s) => s.cancel);
  const showError = useStudio((s) => s.showError);
  const blocker = useStudio(selectGenerateBlocker);

  const running = phase === 'running' || phase === 'cancelling';
  const canGenerate = phase === 'ready' && model !== null && blocker === null;

  return (
    <StoreForm className="controls" onSubmit={() => void generate()}>
      <ModeSelector />
      <div className="field">
        <label htmlFor="seed">Seed</label>
        <div className="with-button">
          <input
            id="seed"
            type="text"
            inputMode="numeric"
            autoComplete="off"
            spellCheck={false}
            value={seedText}
            disabled={running}
            onChange={(e) => setSeedText(e.currentTarget.value)}
            title={`A whole number from 0 to ${MAX_SEED}: the same seed gives the same pair`}
          />
          <button type="button" className="ghost" onClick={randomizeSeed} disabled={running} title="Pick a random seed">
            Random
          </button>
        </div>
      </div>
      <div className="field">
        <label htmlFor="steps">Steps</label>
        <input
          id="steps"
          type="number"
          min={1}
          max={MAX_STEPS}
          step={1}
          value={stepsText}
          disabled={running}
          onChange={(e) => setStepsText(e.currentTarget.value)}
          title={`DDIM steps, 1 to ${MAX_STEPS} (the paper samples with 256)`}
        />
        <div className="hint">{model ? `default ${model.defaultSteps} · paper 256 · max ${MAX_STEPS}` : `max ${MAX_STEPS}`}</div>
      </div>
      <div className="field">
        <label htmlFor="clip">Clip estimates</label>
        <select
          id="clip"
          value={clip ?? model?.defaultClip ?? 'none'}
          disabled={running}
          onChange={(e) => setClip(e.currentTarget.value as ClipMode)}
          title="Clamp the estimate to [−1, 1] in every step, re-deriving ε where it was clamped (not in the paper, which never clips)"
        >
          {CLIP_MODES.map((c) => (
            <option key={c} value={c}>
              {CLIP_LABELS[c]}
            </option>
          ))}
        </select>
        <div className="hint">{model ? `model default: ${CLIP_LABELS[model.defaultClip].toLowerCase()}` : 'advanced: not in the paper'}</div>
      </div>
      <AttributeControls />
      <div className="buttons">
        <button type="submit" className="primary" disabled={!canGenerate} aria-describedby={blocker && !running ? 'generate-blocker' : undefined}>
          Generate
        </button>
        <button type="button" onClick={cancel} disabled={phase !== 'running'}>
          Cancel
        </button>
      </div>
      <Blocker id="generate-blocker" why={blocker && !running ? blocker : null} />
      <button
        type="button"
        className="download"
        disabled={result === null || model === null}
        onClick={() => {
          if (result && model)
            downloadPair(model.name, result).catch((e: unknown) => showError(`Download failed: ${e instanceof Error ? e.message : String(e)}`));
        }}
      >
        Download pair
      </button>
    </StoreForm>
  );
}
