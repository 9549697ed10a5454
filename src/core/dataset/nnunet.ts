// A batch of generated pairs as an nnU-Net v2 raw dataset (the studio's batch ZIP and the CLI's
// output folder are the same files). Pure functions from pairs to { path, bytes } entries: the CLI
// writes them to disk, the browser zips them (zip.ts). DOM-free.
//
// Layout (nnU-Net v2 "dataset format", 2D natural images):
//   imagesTr/<case>_0000.png   ŷ₀ as 8-bit gray (png.ts encodeImagePng); _0000 = channel 0; image
//                              and label carry tEXt chunks saying how they were made (pngProvenance)
//   labelsTr/<case>.png        B(x̂₀) as labels 0 = background, 1 = lesion (nnU-Net needs
//                              consecutive integer labels, not 0/255)
//   dataset.json               channel_names, labels, numTraining, file_ending (what nnU-Net reads);
//                              licence, reference, description from the model's card (about.ts)
//   (format "nifti": the same pixels as .nii.gz, uint8, NIfTI-1 (nifti.ts); file_ending ".nii.gz")
//   manifest.json              how each case was made: seed, steps, η, clip, mode, B(·) settings, mask
//                              area, empty flag, app version; model name and each file's SHA-256;
//                              in the CLI's folder also the documents it carries (path, bytes, SHA-256)
//   README.md                  the dataset card (card.ts): synthetic, model and hashes, settings, counts
//   raw/<case>_{xT,yT,x0,y0}.npy  (optional, CLI --raw) float32 [H, W]: the start noises and the
//                              final estimates, to check the sampler against another one
//   DATA-LICENSE.txt, MODEL-CARD.md  the model folder's data license and model card README.md,
//                              where it has them (about.ts documentSources)
//
// Case names: `<prefix>_<seed as 10 decimal digits>`, e.g. seed 7 → `pig_0000000007`. Ten digits
// hold every seed (0 … 2^32 − 1), so names sort in seed order and never collide within one model.

import type { ClipMode } from '../ddim';
import { seedInRange } from '../limits';
import type { Manifest } from '../manifest';
import { encodeImagePng, encodeLabelPng, imageToGray8, maskToGray8 } from '../png';
import type { DatasetAbout, DocumentListing } from './about';
import { DATASET_CARD_FILE, datasetCard } from './card';
import { encodeNiftiGz, NIFTI_INTENT_LABEL } from './nifti';
import { encodeNpyFloat32 } from './npy';
import type { CaseRecord, DatasetModel, ImageFormat } from './records';
import type { DatasetFile } from './zip';

const CASE_PREFIX = 'pig';
const DATASET_FORMAT = 1;

/** `pig_0000000007` for seed 7 (see the naming rule above). */
export function caseName(seed: number, prefix = CASE_PREFIX): string {
  if (!seedInRange(seed)) throw new RangeError(`seed must be an integer in [0, 2^32 − 1], got ${seed}`);
  return `${prefix}_${String(seed).padStart(10, '0')}`;
}

export type { CaseRecord, DatasetModel, ImageFormat };

const FILE_ENDING: Record<ImageFormat, string> = { png: '.png', nifti: '.nii.gz' };

const imagePath = (name: string, format: ImageFormat = 'png') => `imagesTr/${name}_0000${FILE_ENDING[format]}`;
const labelPath = (name: string, format: ImageFormat = 'png') => `labelsTr/${name}${FILE_ENDING[format]}`;

/** The format of a case's files (from its label's name). */
export function recordFormat(record: CaseRecord): ImageFormat {
  const label = record.files.find((f) => f.startsWith('labelsTr/')) ?? '';
  return label.endsWith(FILE_ENDING.nifti) ? 'nifti' : 'png';
}
export const RAW_ARRAYS = ['xT', 'yT', 'x0', 'y0'] as const;
export type RawArrayName = (typeof RAW_ARRAYS)[number];
export const rawPath = (name: string, array: RawArrayName) => `raw/${name}_${array}.npy`;

export function datasetModel(manifest: Manifest): DatasetModel {
  // An optional `modality` string, top level or in the card (extra manifest fields are allowed).
  const said = manifest.modality ?? manifest.card.modality;
  const files: DatasetModel['files'] = {};
  for (const [role, spec] of Object.entries(manifest.models)) if (spec) files[role] = { file: spec.file, sha256: spec.sha256 };
  const named = new Set<string>();
  for (const [role, spec] of Object.entries(manifest.models)) {
    if (!spec?.weights || named.has(spec.weights.file)) continue;
    named.add(spec.weights.file);
    files[`${role}Weights`] = { file: spec.weights.file, sha256: spec.weights.sha256 };
  }
  return { name: manifest.name, resolution: [...manifest.resolution], modality: typeof said === 'string' && said ? said : 'ultrasound', files };
}

/** What a case needs besides its pixels. */
export interface CaseSettings {
  seed: number;
  mode: CaseRecord['mode'];
  steps: number;
  eta: number;
  clip: ClipMode;
  binarize: CaseRecord['binarize'];
  appVersion: string;
  prefix?: string;
  /** The user's file the case was conditioned on, recorded as is. */
  source?: CaseRecord['source'];
  /** A model with attributes: the case's full request and the run's guidance. */
  attributes?: Record<string, string>;
  guidance?: number;
  /** --reject-empty: the seeds whose empty masks were rejected before this case (record.rejectedSeeds). */
  rejectedSeeds?: readonly number[];
  /** Default png. */
  format?: ImageFormat;
  /** The model that made the case: with it, the PNGs carry provenance in tEXt chunks (pngProvenance). */
  model?: DatasetModel;
}

/**
 * The tEXt chunks of a case's PNGs: what made it (model and each file's SHA-256, seed, sampler
 * settings, mode, the input file's SHA-256), so a PNG separated from its dataset still says it is
 * synthetic and how to make it again. Keywords: the PNG spec's Software and Description, the rest
 * under "pig:". Only metadata chunks: the IDAT stream (the pixels) is the same as without them.
 */
function pngProvenance(settings: CaseSettings, name: string, model: DatasetModel): [string, string][] {
  return [
    ['Software', `PIG Studio ${settings.appVersion}`],
    ['Description', `Synthetic: generated by PIG Studio with the model "${model.name}"; not a scan of a patient`],
    ['pig:case', name],
    ['pig:model', model.name],
    ...Object.entries(model.files).map(([role, f]): [string, string] => [`pig:sha256:${role}`, f.sha256]),
    ['pig:mode', settings.mode],
    ['pig:seed', String(settings.seed)],
    ['pig:steps', String(settings.steps)],
    ['pig:eta', String(settings.eta)],
    ['pig:clip', settings.clip],
    ...(settings.attributes ? [['pig:attributes', JSON.stringify(settings.attributes)] as [string, string]] : []),
    ...(settings.attributes ? [['pig:guidance', String(settings.guidance ?? 1)] as [string, string]] : []),
    ...(settings.source ? [['pig:source', `${settings.source.file} sha256:${settings.source.sha256}`] as [string, string]] : []),
  ];
}

/** The final pair of a run (SamplerResult's mask and image), plus the raw arrays when wanted. */
export interface CasePixels {
  /** B(x̂₀), ±1 floats or 0/1 bytes (values > 0 are lesion). */
  mask: Float32Array | Uint8Array;
  /** ŷ₀ in model units. */
  image: Float32Array;
  raw?: Record<RawArrayName, Float32Array>;
  /** The raw arrays' shapes where they are not all [H, W] (a latent model's: [h, w], and [C, h, w] for yT and y0). */
  rawShapes?: Record<RawArrayName, number[]>;
}

/** Fraction of a mask's pixels that are lesion (value > 0): the record's maskAreaFraction. */
export function maskAreaFraction(mask: ArrayLike<number>): number {
  let lesion = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] > 0) lesion++;
  return mask.length > 0 ? lesion / mask.length : 0;
}

/** The empty-mask rule of the studio's "Reject empty masks" and the CLI's --reject-empty: no lesion pixel. */
export const isEmptyMask = (mask: ArrayLike<number>): boolean => maskAreaFraction(mask) === 0;

/** One case's files (image, label, raw arrays if given) and its record. */
export async function caseFiles(
  settings: CaseSettings,
  pixels: CasePixels,
  [H, W]: readonly [number, number],
): Promise<{ record: CaseRecord; files: DatasetFile[] }> {
  const name = caseName(settings.seed, settings.prefix);
  const area = maskAreaFraction(pixels.mask);
  const format = settings.format ?? 'png';
  const description = `${name} seed ${settings.seed} steps ${settings.steps} eta ${settings.eta}`;
  // Deflated by fflate (png.ts): the same bytes from the CLI (Node) and the studio (browser), so the
  // studio's ZIP holds the CLI's files.
  const png = settings.model ? { text: pngProvenance(settings, name, settings.model) } : undefined;
  const files: DatasetFile[] =
    format === 'png'
      ? [
          { path: imagePath(name), bytes: await encodeImagePng(pixels.image, W, H, png) },
          { path: labelPath(name), bytes: await encodeLabelPng(pixels.mask, W, H, png) },
        ]
      : [
          { path: imagePath(name, format), bytes: await encodeNiftiGz(imageToGray8(pixels.image), W, H, { description }) },
          { path: labelPath(name, format), bytes: await encodeNiftiGz(maskToGray8(pixels.mask, 1), W, H, { description, intent: NIFTI_INTENT_LABEL }) },
        ];
  if (pixels.raw) for (const a of RAW_ARRAYS) files.push({ path: rawPath(name, a), bytes: encodeNpyFloat32(pixels.raw[a], pixels.rawShapes?.[a] ?? [H, W]) });
  const record: CaseRecord = {
    case: name,
    seed: settings.seed,
    mode: settings.mode,
    steps: settings.steps,
    eta: settings.eta,
    clip: settings.clip,
    binarize: { kernel: settings.binarize.kernel, weights: [settings.binarize.weights[0], settings.binarize.weights[1]] },
    maskAreaFraction: area,
    empty: isEmptyMask(pixels.mask),
    appVersion: settings.appVersion,
    ...(settings.source ? { source: { file: settings.source.file, sha256: settings.source.sha256 } } : {}),
    ...(settings.attributes ? { attributes: { ...settings.attributes }, guidance: settings.guidance ?? 1 } : {}),
    ...(settings.rejectedSeeds ? { rejectedSeeds: [...settings.rejectedSeeds] } : {}),
    files: files.map((f) => f.path),
  };
  return { record, files };
}

/**
 * What dataset.json's description adds for a model with attributes (contracts.md §6b): each
 * attribute's values asked for with their counts, and the guidance, from the cases themselves (so
 * any mix of shards and resumed runs is described as it is). Empty when no case has attributes.
 */
function attributesAskedFor(records: readonly CaseRecord[]): string {
  const counts = new Map<string, Map<string, number>>();
  const guidance = new Set<number>();
  for (const r of records) {
    if (!r.attributes) continue;
    guidance.add(r.guidance ?? 1);
    for (const [name, value] of Object.entries(r.attributes)) {
      const values = counts.get(name) ?? new Map<string, number>();
      values.set(value, (values.get(value) ?? 0) + 1);
      counts.set(name, values);
    }
  }
  if (counts.size === 0) return '';
  const each = [...counts].map(([name, values]) => `${name} ${[...values].map(([v, k]) => `${v} (${k})`).join(', ')}`);
  return ` Attributes asked for, with the number of cases: ${each.join('; ')}; classifier-free guidance w = ${[...guidance].join(', ')}.`;
}

const json = (value: unknown) => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);
const byCase = (a: CaseRecord, b: CaseRecord) => (a.case < b.case ? -1 : a.case > b.case ? 1 : 0);

/** What a dataset's index says besides its cases, and the model folder's documents it carries. */
export interface DatasetExtras {
  /** Default png. */
  format?: ImageFormat;
  /** dataset.json's licence, reference and description (about.ts datasetAbout). */
  about: DatasetAbout;
  /** The model folder's documents the dataset carries, listed in manifest.json with their SHA-256 (the CLI's folder). */
  documentList?: readonly DocumentListing[];
}

/**
 * dataset.json and manifest.json for exactly these cases. Cases are sorted by name, so the same set
 * gives the same bytes whatever order it was generated in (shards, resumed runs).
 */
export function datasetIndexFiles(records: readonly CaseRecord[], model: DatasetModel, { format = 'png', about, documentList }: DatasetExtras): DatasetFile[] {
  const cases = [...records].sort(byCase);
  for (let i = 1; i < cases.length; i++) if (cases[i].case === cases[i - 1].case) throw new Error(`dataset: case ${cases[i].case} appears twice`);
  const other = cases.find((c) => recordFormat(c) !== format);
  if (other) throw new Error(`dataset: case ${other.case} is ${recordFormat(other)}, the dataset ${format}; one dataset has one file format`);
  const dataset = {
    name: `PIG synthetic pairs (${model.name})`,
    description: about.description + attributesAskedFor(cases),
    reference: about.reference,
    licence: about.licence,
    channel_names: { '0': model.modality },
    labels: { background: 0, lesion: 1 },
    numTraining: cases.length,
    file_ending: FILE_ENDING[format],
  };
  const manifest = {
    format: DATASET_FORMAT,
    generator: 'PIG Studio',
    model,
    ...(documentList ? { documents: documentList } : {}),
    numCases: cases.length,
    cases,
  };
  return [
    { path: 'dataset.json', bytes: json(dataset) },
    { path: 'manifest.json', bytes: json(manifest) },
    { path: DATASET_CARD_FILE, bytes: new TextEncoder().encode(datasetCard(cases, model, { format, about, documentList })) },
  ];
}

/**
 * A whole dataset (the studio's batch ZIP): every case's files, dataset.json and manifest.json, then
 * the model folder's documents (about.ts readDocuments).
 */
export function datasetFiles(
  cases: readonly { record: CaseRecord; files: DatasetFile[] }[],
  model: DatasetModel,
  extras: DatasetExtras & { documents: readonly DatasetFile[] },
): DatasetFile[] {
  const sorted = [...cases].sort((a, b) => byCase(a.record, b.record));
  return [
    ...sorted.flatMap((c) => c.files),
    ...datasetIndexFiles(
      sorted.map((c) => c.record),
      model,
      extras,
    ),
    ...extras.documents,
  ];
}
