// The batch's pure parts: its inputs, progress and ETA, the pairs an export keeps, and the dataset
// ZIP itself, which is src/core/dataset's (the CLI's files for the same seeds, zipped). No DOM.
import { version as packageVersion } from '../../../package.json';
import { DEFAULT_DATASET_ID, datasetAbout, datasetFolderName, listDocuments, MAX_DATASET_ID, sanitizeDatasetName, underFolder } from '../../core/dataset/about';
import { caseFiles, datasetFiles, type ImageFormat, isEmptyMask, maskAreaFraction } from '../../core/dataset/nnunet';
import { zip } from '../../core/dataset/zip';
import { MAX_BATCH_SIZE, MAX_SEED, seedsPastMax } from '../../core/limits';
import type { BatchPair, BatchProgress, GenerateResult, ModelInfo } from '../../worker/api';
import { parseBoundedInteger } from '../config';
import { estimateRemainingMs, formatDuration, pairBaseName } from '../format';

/** The app's version, as the CLI records it per case (package.json). */
export const APP_VERSION: string = packageVersion;

/** The seed range a batch's inputs ask for, or what is wrong with them. */
export function parseBatchInputs(startText: string, sizeText: string): { startSeed: number; count: number } | string {
  const startSeed = parseBoundedInteger(startText, 0, MAX_SEED);
  if (startSeed === null) return `Batch start seed must be a whole number from 0 to ${MAX_SEED}.`;
  const count = parseBoundedInteger(sizeText, 1, MAX_BATCH_SIZE);
  if (count === null) return `Batch size must be a whole number from 1 to ${MAX_BATCH_SIZE} (each pair is kept in memory until you download the dataset).`;
  return seedsPastMax(startSeed, count) ?? { startSeed, count };
}

/** Steps done over the whole batch and in all, for the progress bar and the ETA. */
export function batchStepsDone(p: BatchProgress): { done: number; total: number } {
  return { done: p.index * p.steps + p.step, total: p.count * p.steps };
}

/** Time left for the batch from the steps done so far (every pair has the same steps), or null. */
export function batchRemainingMs(p: BatchProgress): number | null {
  const { done, total } = batchStepsDone(p);
  return estimateRemainingMs(done, total, p.elapsedMs);
}

/** "Batch: pair 2 of 4 (seed 8), step 3 of 8 · ETA 1.2 s", or that it is being cancelled. */
export function batchProgressText(p: BatchProgress, cancelling = false): string {
  if (cancelling) return `Cancelling the batch… pair ${p.index + 1} of ${p.count}`;
  const eta = batchRemainingMs(p);
  return `Batch: pair ${p.index + 1} of ${p.count} (seed ${p.seed}), step ${p.step} of ${p.steps}${eta === null ? '' : ` · ETA ${formatDuration(eta)}`}`;
}

/** A pair's lesion area in percent of its pixels, as the gallery prints it ("12.3%"). */
export function areaPercent(mask: ArrayLike<number>): string {
  return `${(maskAreaFraction(mask) * 100).toFixed(1)}%`;
}

// the rule the CLI's --reject-empty applies too (one definition, in core)
export { isEmptyMask };

/** The pairs an export writes (seed order) and how many empty masks it leaves out. */
export function exportedPairs<P extends Pick<BatchPair, 'seed' | 'mask'>>(pairs: readonly P[], rejectEmpty: boolean): { kept: P[]; excluded: number } {
  const sorted = [...pairs].sort((a, b) => a.seed - b.seed);
  const kept = rejectEmpty ? sorted.filter((p) => !isEmptyMask(p.mask)) : sorted;
  return { kept, excluded: sorted.length - kept.length };
}

/**
 * The ZIP's top folder `DatasetNNN_Name` from the export's inputs (empty name: the model's), or
 * what is wrong with them.
 */
export function parseDatasetFolder(idText: string, nameText: string, modelName: string): { folder: string } | string {
  const id = parseBoundedInteger(idText, 1, MAX_DATASET_ID);
  if (id === null)
    return `Dataset id must be a whole number from 1 to ${MAX_DATASET_ID} (nnU-Net's DatasetNNN; from ${DEFAULT_DATASET_ID} up for your own datasets).`;
  return { folder: datasetFolderName(id, nameText.trim() || modelName) };
}

/** The dataset name the export uses for an input (empty: the model's), as nnU-Net's folder takes it. */
export const datasetNameShown = (nameText: string, modelName: string): string => sanitizeDatasetName(nameText.trim() || modelName);

/**
 * The dataset ZIP of these pairs under the folder `folder` (DatasetNNN_Name): nnU-Net v2 raw
 * layout, dataset.json and manifest.json, and the model folder's documents, exactly the files
 * `npm run generate` writes for the same model, seeds, steps, η and clip (same functions).
 */
export async function datasetZip(
  pairs: readonly GenerateResult[],
  model: Pick<ModelInfo, 'binarize' | 'dataset' | 'resolution' | 'card' | 'documents'>,
  format: ImageFormat,
  folder: string,
): Promise<Uint8Array> {
  if (pairs.length === 0) throw new Error('there is no pair to export');
  const cases = [];
  for (const p of pairs) {
    cases.push(
      await caseFiles(
        {
          seed: p.seed,
          mode: p.mode,
          steps: p.steps,
          eta: p.eta,
          clip: p.clip,
          binarize: model.binarize,
          appVersion: APP_VERSION,
          format,
          model: model.dataset, // the PNGs' provenance (tEXt), as the CLI writes it
          // a model with attributes: the case's request and w, as the CLI records them (contracts.md §6b)
          ...(p.attributes ? { attributes: p.attributes, guidance: p.guidance } : {}),
        },
        { mask: p.mask, image: p.image },
        model.resolution,
      ),
    );
  }
  const about = datasetAbout(
    model.card,
    model.dataset.name,
    model.documents.map((d) => d.path),
  );
  const documentList = await listDocuments(model.documents);
  return zip(underFolder(folder, datasetFiles(cases, model.dataset, { format, about, documents: model.documents, documentList })));
}

/** `<model>_seed<first>_steps<steps>_n<count>_dataset.zip` (pairBaseName's naming, plus the count). */
export function datasetZipName(model: string, pairs: readonly Pick<GenerateResult, 'seed' | 'steps' | 'mode'>[]): string {
  const first = pairs.reduce((m, p) => Math.min(m, p.seed), Infinity);
  return `${pairBaseName(model, first, pairs[0]?.steps ?? 0, pairs[0]?.mode)}_n${pairs.length}_dataset.zip`;
}

/** Whether a re-run gave the batch's pair: identical mask and image, else how far apart. */
export function comparePairs(
  a: Pick<GenerateResult, 'mask' | 'image'>,
  b: Pick<GenerateResult, 'mask' | 'image'>,
): { identical: boolean; maskPixels: number; maxImageDiff: number } {
  let maskPixels = 0;
  let maxImageDiff = 0;
  if (a.mask.length !== b.mask.length || a.image.length !== b.image.length)
    return { identical: false, maskPixels: Math.max(a.mask.length, b.mask.length), maxImageDiff: Infinity };
  for (let i = 0; i < a.mask.length; i++) if (a.mask[i] !== b.mask[i]) maskPixels++;
  for (let i = 0; i < a.image.length; i++) maxImageDiff = Math.max(maxImageDiff, Math.abs(a.image[i] - b.image[i]));
  return { identical: maskPixels === 0 && maxImageDiff === 0, maskPixels, maxImageDiff };
}
