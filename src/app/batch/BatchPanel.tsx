import { memo, useEffect, useRef, useState } from 'react';
import { MAX_DATASET_ID } from '../../core/dataset/about';
import type { ImageFormat } from '../../core/dataset/nnunet';
import { MAX_BATCH_SIZE, MAX_SEED } from '../../core/limits';
import type { BatchPair } from '../../worker/api';
import { saveFile } from '../exports/download';
import { backendLabel, formatDuration } from '../format';
import { useStudio } from '../page-studio';
import { Blocker, NumberField, StoreForm, TextField } from '../shell/Form';
import { selectGenerateBlocker } from '../store/store';
import { imageGray } from '../viewer/display';
import { drawPane, putPixels } from '../viewer/render';
import { compositeOverlay, maskOutline } from '../viewer/viewer-math';
import {
  areaPercent,
  batchProgressText,
  batchStepsDone,
  datasetNameShown,
  datasetZip,
  datasetZipName,
  exportedPairs,
  isEmptyMask,
  parseDatasetFolder,
} from './batch';

/** Batch: N pairs from a seed range, their gallery, and the dataset ZIP (nnU-Net v2 raw layout). */
export function BatchPanel() {
  const phase = useStudio((s) => s.phase);
  const model = useStudio((s) => s.model);
  const stepsText = useStudio((s) => s.stepsText);
  const batch = useStudio((s) => s.batch);
  const blocker = useStudio(selectGenerateBlocker);
  const setBatch = useStudio((s) => s.setBatch);
  const generateBatch = useStudio((s) => s.generateBatch);
  const cancel = useStudio((s) => s.cancel);
  const showError = useStudio((s) => s.showError);
  const [exporting, setExporting] = useState(false);
  const [exported, setExported] = useState<string | null>(null);

  const { pairs, progress } = batch;
  const batchRunning = progress !== null;
  const otherRun = !batchRunning && (phase === 'running' || phase === 'cancelling');
  const why =
    phase === 'loading'
      ? 'The model is loading.'
      : model === null
        ? 'No model is loaded.'
        : otherRun
          ? 'A generation is running: wait for it or cancel it.'
          : blocker;
  const { kept, excluded } = exportedPairs(pairs, batch.rejectEmpty);
  const empties = pairs.filter((p) => isEmptyMask(p.mask)).length;

  const download = async () => {
    if (!model) return;
    const folder = parseDatasetFolder(batch.datasetIdText, batch.datasetNameText, model.name);
    if (typeof folder === 'string') return showError(folder);
    setExporting(true);
    try {
      const bytes = await datasetZip(kept, model, batch.format, folder.folder);
      const name = datasetZipName(model.name, kept);
      saveFile(bytes, name, 'application/zip');
      setExported(`${name}: ${kept.length} pairs in ${folder.folder}/${excluded > 0 ? `, ${excluded} with an empty mask excluded` : ''}.`);
    } catch (e) {
      showError(`Dataset export failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setExporting(false);
    }
  };

  const steps = progress ? batchStepsDone(progress) : null;
  const status = progress ? batchProgressText(progress, phase === 'cancelling') : batch.note;

  return (
    <section className="batch panel" aria-labelledby="batch-heading">
      <h2 id="batch-heading">Batch</h2>
      <StoreForm
        className="batch-controls"
        onSubmit={() => {
          setExported(null);
          void generateBatch();
        }}
      >
        <TextField
          label="Batch start seed"
          numeric
          value={batch.startText}
          disabled={batchRunning}
          onChange={(startText) => setBatch({ startText })}
          title={`The first seed, 0 to ${MAX_SEED}; the batch runs this seed and the next ones`}
        />
        <NumberField
          label="Batch size"
          max={MAX_BATCH_SIZE}
          value={batch.sizeText}
          disabled={batchRunning}
          onChange={(sizeText) => setBatch({ sizeText })}
          title={`Pairs in the batch, 1 to ${MAX_BATCH_SIZE}`}
        />
        <span className="hint">{`${stepsText || '?'} steps each; Steps and Mode as in the controls`}</span>
        <button type="submit" className="primary" disabled={why !== null || batchRunning} aria-describedby={why ? 'batch-blocker' : undefined}>
          Generate batch
        </button>
        <button type="button" onClick={cancel} disabled={!batchRunning || phase !== 'running'}>
          Cancel batch
        </button>
      </StoreForm>
      <Blocker id="batch-blocker" why={batchRunning ? null : why} />
      <div className="batch-status">
        <progress aria-label="Batch progress" max={Math.max(1, steps?.total ?? 1)} value={steps?.done ?? (pairs.length > 0 ? 1 : 0)} />
        <span className="batch-status-text" aria-live="polite" data-testid="batch-status">
          {status ?? 'No batch yet.'}
        </span>
      </div>
      <div className="batch-export" role="group" aria-label="Dataset export">
        <label className="check">
          <input type="checkbox" checked={batch.rejectEmpty} onChange={(e) => setBatch({ rejectEmpty: e.currentTarget.checked })} />
          Reject empty masks
        </label>
        <select aria-label="Dataset format" value={batch.format} onChange={(e) => setBatch({ format: e.currentTarget.value as ImageFormat })}>
          <option value="png">PNG</option>
          <option value="nifti">NIfTI (.nii.gz)</option>
        </select>
        <NumberField
          label="Dataset id"
          max={MAX_DATASET_ID}
          value={batch.datasetIdText}
          onChange={(datasetIdText) => setBatch({ datasetIdText })}
          title={`nnU-Net's dataset id, 1 to ${MAX_DATASET_ID}: the ZIP unpacks to DatasetNNN_Name/`}
        />
        <TextField
          label="Dataset name"
          value={batch.datasetNameText}
          placeholder={model ? datasetNameShown('', model.name) : ''}
          onChange={(datasetNameText) => setBatch({ datasetNameText })}
          title="The Name of DatasetNNN_Name/ (letters, digits, - and _; others become -); empty: the model's name"
        />
        <button type="button" onClick={() => void download()} disabled={kept.length === 0 || batchRunning || exporting || model === null}>
          {exporting ? 'Exporting…' : 'Download dataset (ZIP)'}
        </button>
        <span className="hint" data-testid="batch-export-note">
          {pairs.length === 0
            ? 'Nothing to export yet.'
            : `${kept.length} of ${pairs.length} pairs in the export · ${empties} empty mask${empties === 1 ? '' : 's'}${batch.rejectEmpty ? `, ${excluded} excluded` : ''}`}
        </span>
      </div>
      {exported ? <p className="hint">Saved {exported}</p> : null}
      {batch.opened ? (
        <p className={`hint ${batch.opened.identical === false ? 'blocker' : ''}`} data-testid="batch-opened">
          {batch.opened.text}
        </p>
      ) : null}
      <BatchGallery pairs={pairs} opened={batch.opened?.index ?? null} disabled={phase !== 'ready'} />
    </section>
  );
}

function BatchGallery(props: { pairs: BatchPair[]; opened: number | null; disabled: boolean }) {
  const stretch = useStudio((s) => s.stretch);
  const open = useStudio((s) => s.openBatchPair);
  if (props.pairs.length === 0) return null;
  return (
    <ul className="batch-gallery" aria-label="Batch pairs">
      {props.pairs.map((p, i) => (
        <li key={p.seed}>
          <button
            type="button"
            className="thumb"
            aria-current={props.opened === i ? 'true' : undefined}
            aria-label={`Open pair seed ${p.seed}`}
            title={`Seed ${p.seed}: ${p.steps} steps in ${formatDuration(p.totalMs)} (${formatDuration(p.msPerStep)}/step) on ${backendLabel(p.backend)}`}
            data-ms-per-step={p.msPerStep.toFixed(1)}
            disabled={props.disabled}
            onClick={() => void open(i)}
          >
            <Thumbnail pair={p} stretch={stretch} />
            <span className="thumb-caption">
              <span>seed {p.seed}</span>{' '}
              <span className="thumb-area" title="Lesion area, % of the pixels">
                {areaPercent(p.mask)}
              </span>
            </span>
            {isEmptyMask(p.mask) ? <span className="badge-empty">Empty mask</span> : null}
          </button>
        </li>
      ))}
    </ul>
  );
}

// One source canvas at the model's size, reused by every thumbnail (drawn once per pair).
let thumbSource: HTMLCanvasElement | null = null;

/** The pair's image with its mask as overlay and outline, drawn once (not on every gallery update). */
const Thumbnail = memo(function Thumbnail({ pair, stretch }: { pair: BatchPair; stretch: boolean }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    const { width, height } = pair;
    thumbSource ??= document.createElement('canvas');
    putPixels(thumbSource, compositeOverlay(imageGray(pair.image, width, height, stretch), pair.mask, 0.3), width, height);
    const scale = canvas.clientWidth / width;
    drawPane(canvas, thumbSource, { scale, offsetX: 0, offsetY: 0 }, maskOutline(pair.mask, width, height));
  }, [pair, stretch]);
  // biome-ignore lint/a11y/noAriaHiddenOnFocusable: a canvas is not focusable; the button around it is named by its aria-label
  return <canvas ref={ref} className="thumb-canvas" data-seed={pair.seed} style={{ aspectRatio: `${pair.width} / ${pair.height}` }} aria-hidden="true" />;
});
