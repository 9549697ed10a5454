// Headless batch generation: the studio's sampler (src/core, one loop) on onnxruntime-node, writing
// an nnU-Net v2 raw dataset (src/core/dataset/nnunet.ts). docs/cli.md.
//
//   npm run generate -- [--model public/models/busbra64] --count 64 --steps 8 --seed 0 --out out/tiny \
//     [--eta 0] [--clip none|image|both] [--shard i/n] [--resume] [--raw] [--format png|nifti] [--threads 1]
//     [--dataset-id 501] [--dataset-name NAME] (then the dataset is the folder <out>/Dataset501_NAME)
//     [--attr pathology=malignant,birads=4] [--balance pathology] [--guidance 2] (models with attributes)
//   npm run generate -- --mode mask2image --masks <dir of PNG masks> … (model_y alone, each mask as the label)
//   npm run generate -- --mode image2mask --images <dir of PNG images> … (model_x alone, each image as the image)
//     [--reject-empty] (a case whose mask is empty tries the next seeds) [--preview] (preview.png)
// The dataset card README.md is written beside dataset.json (core/dataset/card.ts). docs/cli-datasets.md.
//
// stdout: one line per generated case, "seed <k>: <ms> ms, <ms> ms/step → <case>" (the training
// kit's evaluator reads these timings from the log), then a summary. stderr: the progress bar, and
// on failure one line "generate: <what is wrong>" (exit 1; 2 for a bad command line).
// Output folder, shards and resume: src/cli/dataset-folder.ts explains the design.
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { conditioning } from '../core/attributes';
import {
  type DatasetAbout,
  DEFAULT_DATASET_ID,
  DocumentError,
  datasetAbout,
  datasetFolderName,
  listDocuments,
  MAX_DATASET_ID,
  MAX_DOCUMENT_BYTES,
  type ModelDocument,
  readDocuments,
} from '../core/dataset/about';
import { type CasePixels, caseFiles, caseName, type DatasetModel, datasetModel, type ImageFormat, isEmptyMask } from '../core/dataset/nnunet';
import type { ClipMode } from '../core/ddim';
import { DEFAULT_MODEL } from '../core/default-model';
import { errorMessage } from '../core/errors';
import { MAX_SEED, MAX_T } from '../core/limits';
import { type AttributeSpec, attributesOf, chainGrid, latentOf, samplerClip, samplerGuidance } from '../core/manifest';
import { runSampler, type SamplerStep } from '../core/sampler';
import { type StartNoise, tapStartNoise } from '../core/sampler-tap';
import { EngineError } from '../engine/errors';
import { readInside } from '../engine/files';
import { loadPairFromDir } from '../engine/node';
import type { LoadedPair } from '../engine/pair';
import {
  caseProblem,
  checkCompatible,
  checkDatasetId,
  checkOutsideModels,
  type FolderSettings,
  lockFolder,
  OutputFolderError,
  prepareOutputFolder,
  readRecords,
  rebuildIndex,
  removeStaleTemps,
  SettingsMismatchError,
  writeAtomic,
  writeCase,
} from './dataset-folder';
import { MaskFolderError, readInputFolder } from './mask-folder';
import {
  type AttributePlan,
  type CaseJob,
  caseRequest,
  checkArguments,
  checkAttributes,
  checkCaseCount,
  checkRetrySeeds,
  inputJobs,
  pairJobs,
  parseAttributes,
  parseClip,
  parseEta,
  parseGuidance,
  parseInteger,
  parseShard,
  REJECT_EMPTY_RETRIES,
  retrySeed,
  type Shard,
  shardSeeds,
  UsageError,
} from './plan';
import { PREVIEW_CASES, PREVIEW_FILE, writePreview } from './preview';
import { ProgressBar, printable } from './progress';

// stdout and stderr, each line made printable (no terminal escapes from a manifest or file name);
// once the reader of a pipe has gone (EPIPE), nothing more is written to it
const closed = new Set<NodeJS.WriteStream>();
const say = (line: string) => void (closed.has(process.stdout) || console.log(printable(line)));
const warn = (text: string) => void (closed.has(process.stderr) || console.error(text.split('\n').map(printable).join('\n')));

/** --out when neither it nor $nnUNet_raw is given (relative to the current folder). */
const DEFAULT_OUT = 'pig-out';

const USAGE = `usage: pig-generate [--model <dir>] --count N --steps S --seed K [--out <dir>]
                    [--eta E] [--clip none|image|both] [--shard i/n] [--resume] [--raw]
                    [--format png|nifti] [--threads T] [--reject-empty] [--preview]
                    [--mode pair|mask2image --masks <dir>|image2mask --images <dir>]
                    [--dataset-id N] [--dataset-name NAME]
                    [--attr NAME=VALUE,…] [--balance NAME] [--guidance W]
       (npx pig-generate …, or in this repository npm run generate -- …)
  --model    model folder (manifest.json + ONNX files)   default public/models/${DEFAULT_MODEL} (the studio's)
  --mode     pair (both U-Nets), mask2image (model_y alone on the masks of --masks) or
             image2mask (model_x alone on the images of --images)        default pair
  --masks    mask2image: a folder of mask PNGs, one case per mask and seed, named <mask>_<seed>
  --images   image2mask: a folder of image PNGs, one case per image and seed, named <image>_<seed>
             (in both folders entries that are not .png files are skipped with a note)
  --count    number of cases over all shards (seeds K … K+N−1; per mask in mask2image) default 1
  --seed     first seed K                                      default 0
  --steps    DDIM steps                                        default: the manifest's
  --eta      DDIM η, 0 (deterministic DDIM) to 1 (DDPM-like)  default: the manifest's
  --clip     clamp x̂₀ to [−1, 1] in a step, re-deriving ε: none (the paper's loop), image (ŷ₀),
             both (x̂₀ and ŷ₀)                                  default: the manifest's (else none)
  --out      output folder: the dataset itself (nnU-Net v2 raw layout), or with --dataset-id or
             --dataset-name the folder that holds it (nnU-Net's $nnUNet_raw).
             default: $nnUNet_raw where it is set (then the dataset is $nnUNet_raw/DatasetNNN_<name>),
             else ${DEFAULT_OUT} in the current folder, which gets a .gitignore so git leaves it out
  --dataset-id    N (1 … ${MAX_DATASET_ID}): write the dataset to <out>/DatasetNNN_<name>  default ${DEFAULT_DATASET_ID} when
             --dataset-name is given or $nnUNet_raw is used; an id another DatasetNNN_ folder of
             <out> has is refused (nnU-Net finds datasets by id)
  --dataset-name  NAME of <out>/DatasetNNN_NAME (letters, digits, - and _; others become -)
             default the model's name when --dataset-id is given
  --shard    i/n: generate only block i (0-based) of n of the seed range
  --resume   skip cases already complete in --out
  --raw      also write raw/<case>_{xT,yT,x0,y0}.npy (float32 [H, W])
  --format   png (default) or nifti: images and labels as .nii.gz (NIfTI-1, uint8)
  --reject-empty  a case whose mask comes out empty (no lesion pixel, the studio's rule) is not
             kept: it tries seed + --count, seed + 2·--count, … (at most ${REJECT_EMPTY_RETRIES} more); the tried
             seeds are recorded, the rejected ones counted
  --preview  also write ${PREVIEW_FILE}: the first ${PREVIEW_CASES} cases, mask beside image (kept up to date after)
  Every run writes README.md, the dataset card (synthetic, model and hashes, settings, counts);
  PNGs carry tEXt chunks with the model's hashes, seed, steps and mode. docs/cli-datasets.md
  --threads  ONNX Runtime intra-op threads                     default: ORT's choice
  Models with attributes (their manifest lists them, e.g. pathology, birads, scanner):
  --attr     NAME=VALUE,… the values every case asks for, e.g. pathology=malignant,birads=4;
             an attribute left out (or VALUE any) is any                    default: all any
  --balance  NAME: equal counts per value of NAME. The case of seed K+i asks for value number
             i mod n (n values, in the manifest's order), so shards and resumed runs assign the
             same; a --count that n divides gives each value exactly --count/n cases
  --guidance classifier-free guidance w, 0 to 20 (1: none; otherwise each U-Net runs twice
             a step)                                          default: the manifest's (else 1)
  A latent model writes its pairs at its resolution (e.g. 256×256); the chains run on its grid.
  --help, -h this text; --version the CLI's version`;

type CliMode = 'pair' | 'mask2image' | 'image2mask';

interface RunOptions {
  model: string;
  out: string;
  mode: CliMode;
  /** mask2image: the folder of mask PNGs; image2mask: of image PNGs */
  masks?: string;
  images?: string;
  /** Where --out came from: the flag, $nnUNet_raw, or the default (which gets a .gitignore). */
  outFrom: 'flag' | 'nnUNet_raw' | 'default';
  rejectEmpty: boolean;
  preview: boolean;
  /** seeds K … K+N−1 (first K, count N), and the shard of the job list this run takes */
  firstSeed: number;
  count: number;
  shard?: Shard;
  steps?: number;
  eta?: number;
  clip?: ClipMode;
  resume: boolean;
  raw: boolean;
  format: ImageFormat;
  threads?: number;
  /** --dataset-id / --dataset-name: the dataset goes to out/DatasetNNN_Name (undefined: to out itself). */
  dataset?: { id: number; name?: string };
  /** --attr, --balance, --guidance (checked against the model once it is read). */
  attr?: Record<string, string>;
  balance?: string;
  guidance?: number;
}

/** Without --model: the studio's default model, the bundled folder of this package (wherever the CLI is run from). */
const DEFAULT_MODEL_DIR = fileURLToPath(new URL(`../../public/models/${DEFAULT_MODEL}`, import.meta.url));

/** The command line's options (a --model default is resolved from the package, so npx runs it from anywhere). */
const OPTIONS = {
  model: { type: 'string' },
  mode: { type: 'string', default: 'pair' },
  masks: { type: 'string' },
  images: { type: 'string' },
  'reject-empty': { type: 'boolean', default: false },
  preview: { type: 'boolean', default: false },
  seed: { type: 'string', default: '0' },
  count: { type: 'string', default: '1' },
  steps: { type: 'string' },
  eta: { type: 'string' },
  clip: { type: 'string' },
  out: { type: 'string' },
  shard: { type: 'string' },
  resume: { type: 'boolean', default: false },
  raw: { type: 'boolean', default: false },
  format: { type: 'string', default: 'png' },
  threads: { type: 'string' },
  'dataset-id': { type: 'string' },
  'dataset-name': { type: 'string' },
  attr: { type: 'string' },
  balance: { type: 'string' },
  guidance: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'boolean', default: false },
} as const;

function parseCommandLine(argv: string[]): RunOptions | 'help' | 'version' {
  let values;
  try {
    ({ values } = parseArgs({ args: checkArguments(argv, OPTIONS), options: OPTIONS }));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(errorMessage(e));
  }
  if (values.help) return 'help';
  if (values.version) return 'version';
  const seed = parseInteger('seed', values.seed, 0, MAX_SEED);
  const count = parseInteger('count', values.count, 0, MAX_SEED + 1 - seed);
  checkCaseCount(count, `--count ${count}`);
  const shard = values.shard === undefined ? undefined : parseShard(values.shard);
  if (values.format !== 'png' && values.format !== 'nifti') throw new UsageError(`--format must be png or nifti, got "${values.format}"`);
  if (values.mode !== 'pair' && values.mode !== 'mask2image' && values.mode !== 'image2mask')
    throw new UsageError(`--mode must be pair, mask2image or image2mask, got "${values.mode}"`);
  if (values.mode === 'mask2image' && values.masks === undefined) throw new UsageError('--mode mask2image needs --masks <folder of mask PNGs>');
  if (values.mode === 'image2mask' && values.images === undefined) throw new UsageError('--mode image2mask needs --images <folder of image PNGs>');
  if (values.mode !== 'mask2image' && values.masks !== undefined)
    throw new UsageError(`--masks is for --mode mask2image; ${values.mode} mode ${values.mode === 'pair' ? 'generates its own masks' : 'takes --images'}`);
  if (values.mode !== 'image2mask' && values.images !== undefined)
    throw new UsageError(`--images is for --mode image2mask; ${values.mode} mode ${values.mode === 'pair' ? 'generates its own images' : 'takes --masks'}`);
  if (values['reject-empty']) checkRetrySeeds(seed, count);
  // nnU-Net's tools find raw datasets in $nnUNet_raw: without --out, the dataset goes there as DatasetNNN_<name>
  const raw = process.env.nnUNet_raw?.trim() || undefined;
  const outFrom = values.out !== undefined ? 'flag' : raw ? 'nnUNet_raw' : 'default';
  const datasetAsked = values['dataset-id'] !== undefined || values['dataset-name'] !== undefined || outFrom === 'nnUNet_raw';
  return {
    model: values.model ?? DEFAULT_MODEL_DIR,
    out: values.out ?? raw ?? DEFAULT_OUT,
    outFrom,
    mode: values.mode,
    masks: values.masks,
    images: values.images,
    rejectEmpty: values['reject-empty'],
    preview: values.preview,
    firstSeed: seed,
    count,
    shard,
    steps: values.steps === undefined ? undefined : parseInteger('steps', values.steps, 1, MAX_T),
    eta: values.eta === undefined ? undefined : parseEta(values.eta),
    clip: values.clip === undefined ? undefined : parseClip(values.clip),
    resume: values.resume,
    raw: values.raw,
    format: values.format,
    threads: values.threads === undefined ? undefined : parseInteger('threads', values.threads, 1, 1024),
    attr: values.attr === undefined ? undefined : parseAttributes(values.attr),
    balance: values.balance,
    guidance: values.guidance === undefined ? undefined : parseGuidance(values.guidance),
    dataset: !datasetAsked
      ? undefined
      : {
          id: values['dataset-id'] === undefined ? DEFAULT_DATASET_ID : parseInteger('dataset-id', values['dataset-id'], 1, MAX_DATASET_ID),
          name: values['dataset-name'],
        },
  };
}

async function appVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
  return String(pkg.version);
}

async function loadModel(dir: string, threads: number | undefined): Promise<LoadedPair> {
  const s = await stat(dir).catch(() => null);
  if (!s) throw new Error(`bad model folder: --model ${dir} does not exist`);
  if (!s.isDirectory()) throw new Error(`bad model folder: --model ${dir} is a file, not a folder`);
  try {
    return await loadPairFromDir(dir, { intraOpNumThreads: threads });
  } catch (e) {
    throw new Error(`bad model folder: ${errorMessage(e)}`, { cause: e });
  }
}

/** The cases of this run (this shard): one per seed, or one per input file and seed; each with its attributes. */
async function planJobs(opts: RunOptions, resolution: readonly [number, number], attributes: AttributePlan | null): Promise<CaseJob[]> {
  let jobs: CaseJob[];
  if (opts.mode === 'pair') jobs = pairJobs(shardSeeds(opts.firstSeed, opts.count, opts.shard));
  else {
    const kind = opts.mode === 'mask2image' ? 'mask' : 'image';
    const inputs = await readInputFolder(kind === 'mask' ? opts.masks! : opts.images!, resolution, kind, say);
    for (const m of inputs) say(`${kind} ${m.file}: ${m.note}`);
    jobs = inputJobs(inputs, kind, opts.firstSeed, opts.count, opts.shard);
  }
  return attributes ? jobs.map((j) => ({ ...j, attributes: caseRequest(attributes, opts.firstSeed, j.seed) })) : jobs;
}

/** What every case of a run shares: the sampler's settings. */
interface SamplerSettings {
  steps: number;
  eta: number;
  clip: ClipMode;
  /** A model with attributes: its attributes and the guidance w (null: none). */
  attributes: { specs: readonly AttributeSpec[]; guidance: number } | null;
}

/** Runs one case through the sampler; with `raw`, also taps x_T, y_T and keeps the final x̂₀. */
async function sampleCase(pair: LoadedPair, job: CaseJob, { steps, eta, clip, attributes }: SamplerSettings, raw: boolean): Promise<CasePixels> {
  const [h, w] = chainGrid(pair.manifest);
  let start: StartNoise | undefined;
  let last: SamplerStep | undefined;
  const result = await runSampler(
    {
      executor: raw ? tapStartNoise(pair.executors, (n) => (start = n)) : pair.executors,
      schedule: pair.schedule,
      height: h,
      width: w,
      latent: pair.latent,
      ...(attributes ? { conditioning: conditioning(attributes.specs, job.attributes ?? {}, attributes.guidance) } : {}),
      steps,
      seed: job.seed,
      eta,
      clip,
      binarize: pair.manifest.sampler.binarize,
      mode: job.mode,
      previews: raw ? ['x0'] : false, // x̂₀ of the last step; ŷ₀ comes with the result
    },
    (frame) => {
      last = frame;
    },
  );
  if (!raw) return result;
  if (!start || !last?.x0) throw new Error('internal: the sampler did not report x_T, y_T or x̂₀');
  const C = pair.latent?.spec.channels;
  if (!C) return { ...result, raw: { xT: start.xT, yT: start.yT, x0: last.x0, y0: result.image } };
  // a latent model's arrays are where its chains run: x at [h, w], z at [C, h, w] (y0: ẑ₀, or z* in image → mask)
  const z0 = result.latent?.z0 ?? new Float32Array(C * h * w);
  return {
    ...result,
    raw: { xT: start.xT, yT: start.yT, x0: last.x0, y0: z0 },
    rawShapes: { xT: [h, w], yT: [C, h, w], x0: [h, w], y0: [C, h, w] },
  };
}

/**
 * A document of the model folder: a regular file whose real path is inside the folder (a link out of
 * it, to a key or /etc/shadow, is refused) and of at most MAX_DOCUMENT_BYTES; null when absent.
 */
async function readModelDocument(dir: string, file: string): Promise<Uint8Array | null> {
  try {
    return await readInside(dir, file, { maxBytes: MAX_DOCUMENT_BYTES, kind: 'document' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw new DocumentError(e instanceof EngineError ? e.message : `${join(dir, file)} cannot be read (${code ?? errorMessage(e)})`);
  }
}

/** The model folder's data license and model card, and dataset.json's licence, reference and description from its card. */
async function datasetExtras(dir: string, pair: LoadedPair): Promise<{ about: DatasetAbout; documents: ModelDocument[] }> {
  const { card, name } = pair.manifest;
  let documents: ModelDocument[];
  try {
    documents = await readDocuments(card, (file) => readModelDocument(dir, file));
  } catch (e) {
    if (e instanceof DocumentError) throw new Error(`bad model folder: ${e.message}`, { cause: e });
    throw e;
  }
  return {
    about: datasetAbout(
      card,
      name,
      documents.map((d) => d.path),
    ),
    documents,
  };
}

/**
 * The default --out gets a .gitignore of "*" (unless it has one: never replaced), so a dataset
 * generated without --out inside someone's repository is not committed by accident.
 */
async function ignoredByGit(out: string): Promise<void> {
  const text = '# written by pig-generate: a generated dataset, kept out of git (delete this file to commit it)\n*\n';
  await writeFile(join(out, '.gitignore'), text, { flag: 'wx' }).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw new OutputFolderError(`cannot write ${join(out, '.gitignore')}: ${e.message}`);
  });
}

/** What stops a run before its last case: a signal, or stdout closed under it (`| head -1`). */
type Interruption = NodeJS.Signals | 'EPIPE';
const EXIT_CODE: Record<string, number> = { SIGINT: 130, SIGTERM: 143, EPIPE: 141 /* 128 + SIGPIPE, as a shell reports it */ };

async function run(options: RunOptions, stopped: () => Interruption | null): Promise<void> {
  // --out is never the model folder nor in one; the dataset folder is inside --out, so that covers it
  await checkOutsideModels(options.out, options.model);
  // without --dataset-id/--dataset-name, --out is the dataset; with them it holds it (named after the model)
  await prepareOutputFolder(options.out, { dataset: !options.dataset });
  if (options.outFrom === 'default') await ignoredByGit(options.out);
  const pair = await loadModel(options.model, options.threads);
  try {
    const folder = options.dataset && datasetFolderName(options.dataset.id, options.dataset.name ?? pair.manifest.name);
    const opts = folder ? { ...options, out: join(options.out, folder) } : options;
    const { manifest } = pair;
    const model: DatasetModel = datasetModel(manifest);
    const { about, documents } = await datasetExtras(opts.model, pair);
    if (folder) {
      // the derived folder goes through the same checks as an --out given as the dataset itself
      const where = options.outFrom === 'nnUNet_raw' ? `$nnUNet_raw (${options.out})` : `--out ${options.out}`;
      await checkDatasetId(options.out, folder, where);
      await checkOutsideModels(opts.out, opts.model);
      await prepareOutputFolder(opts.out);
    }
    const steps = opts.steps ?? manifest.sampler.steps;
    const eta = opts.eta ?? manifest.sampler.eta;
    const clip = opts.clip ?? samplerClip(manifest);
    if (steps > manifest.schedule.T) throw new UsageError(`--steps ${steps} is more than the model's schedule has (T = ${manifest.schedule.T})`);
    const specs = attributesOf(manifest);
    if (opts.guidance !== undefined && specs.length === 0)
      throw new UsageError(
        `--guidance: the model "${manifest.name}" takes no attributes (its manifest lists none), so there is nothing to guide; leave it out`,
      );
    const plan = specs.length > 0 || opts.attr || opts.balance !== undefined ? checkAttributes(specs, manifest.name, opts.attr, opts.balance) : null;
    const attributes = specs.length > 0 ? { specs, guidance: opts.guidance ?? samplerGuidance(manifest) } : null;
    const version = await appVersion();
    const jobs = await planJobs(opts, manifest.resolution, plan);
    // one mode per run, so the first job's settings are every job's (none: a run that only rebuilds the index)
    const settings: FolderSettings | null =
      jobs.length > 0
        ? {
            model,
            steps,
            eta,
            clip,
            mode: jobs[0].mode.kind,
            format: opts.format,
            ...(attributes ? { guidance: attributes.guidance } : {}),
            ...(opts.rejectEmpty ? { rejectEmpty: true as const } : {}),
          }
        : null;
    const unlock = await lockFolder(opts.out, settings);
    try {
      await generateInto(opts, pair, { model, about, documents, sampler: { steps, eta, clip, attributes }, version, jobs, settings }, stopped);
    } finally {
      await unlock();
    }
  } finally {
    await pair.release();
  }
}

interface Plan {
  model: DatasetModel;
  about: DatasetAbout;
  documents: ModelDocument[];
  sampler: SamplerSettings;
  version: string;
  jobs: CaseJob[];
  settings: FolderSettings | null;
}

async function generateInto(opts: RunOptions, pair: LoadedPair, plan: Plan, stopped: () => Interruption | null): Promise<void> {
  const { manifest } = pair;
  const { model, about, documents, sampler, version, jobs, settings } = plan;
  const { steps, eta, clip, attributes } = sampler;
  const existing = await readRecords(opts.out);
  if (settings) checkCompatible(opts.out, existing, settings);
  await removeStaleTemps(
    opts.out,
    jobs.map((j) => j.name),
  );
  for (const d of documents) await writeAtomic(opts.out, d.path, d.bytes);
  const listed = await listDocuments(documents);
  const unsynced = new Set<string>(); // written this run, made durable before each index rebuild
  const rebuild = async () => {
    const total = await rebuildIndex(opts.out, model, opts.format, about, settings, listed, unsynced);
    // the contact sheet follows the index: asked for now, or written by an earlier run
    if (opts.preview || (await stat(join(opts.out, PREVIEW_FILE)).catch(() => null))) await writePreview(opts.out, manifest.resolution);
    return total;
  };
  const [H, W] = manifest.resolution;
  const latent = latentOf(manifest);
  const onGrid = latent ? ` (latent ${latent.channels}×${latent.grid.join('×')})` : '';
  const guided = attributes ? `, guidance ${attributes.guidance}` : '';
  say(
    `${manifest.name} ${H}×${W}${onGrid}, ${steps} steps, η=${eta}, clip ${clip}${guided}, ${jobs.length} cases → ${opts.out}; sessions ready in ${pair.sessionMs.toFixed(0)} ms`,
  );

  const progress = new ProgressBar(closed.has(process.stderr) ? { write: () => undefined } : process.stderr, jobs.length);
  let done = 0;
  let generated = 0;
  let elapsedMs = 0;
  let skipped = 0;
  let rejected = 0;
  const unfilled: string[] = [];
  // --reject-empty: the case of seed s tries s, s + N, s + 2N, … (plan.ts retrySeed), named by the seed tried
  const tries = (job: CaseJob): CaseJob[] =>
    opts.rejectEmpty
      ? Array.from({ length: REJECT_EMPTY_RETRIES + 1 }, (_, i) => {
          const seed = retrySeed(job.seed, opts.count, i);
          return { ...job, seed, name: caseName(seed, job.prefix) };
        })
      : [job];
  /** The try of this case already complete in the folder (--resume), or null; says why another one is made again. */
  const completeTry = async (all: CaseJob[]): Promise<CaseJob | null> => {
    for (const t of all) {
      const have = existing.get(t.name);
      // an input file changed since its case was made is a new case: regenerate it
      const sameSource = have?.case.source?.sha256 === t.source?.sha256;
      // and a case that asked for other attributes (another --attr or --balance) is a new case too
      const sameRequest = JSON.stringify(have?.case.attributes) === JSON.stringify(t.attributes);
      if (!sameSource || !sameRequest) continue;
      const problem = await caseProblem(opts.out, have, opts.raw);
      if (problem === null) return t;
      if (problem) progress.above(() => warn(`generate: ${t.name}: ${problem}; making it again`));
    }
    return null;
  };
  try {
    for (const job of jobs) {
      if (stopped()) break;
      const all = tries(job);
      if (opts.resume && (await completeTry(all))) {
        skipped++;
        progress.update({ done: ++done });
        continue;
      }
      const rejectedSeeds: number[] = [];
      let made: { t: CaseJob; pixels: CasePixels; ms: number } | null = null;
      for (const t of all) {
        if (rejectedSeeds.length > 0 && stopped()) break;
        const t0 = performance.now();
        const pixels = await sampleCase(pair, t, sampler, opts.raw);
        const ms = performance.now() - t0;
        elapsedMs += ms;
        if (opts.rejectEmpty && isEmptyMask(pixels.mask)) {
          rejectedSeeds.push(t.seed);
          rejected++;
          progress.above(() => say(`seed ${t.seed}: ${ms.toFixed(0)} ms, ${(ms / steps).toFixed(2)} ms/step → empty mask, rejected`));
          continue;
        }
        made = { t, pixels, ms };
        break;
      }
      if (!made) {
        if (rejectedSeeds.length === all.length) {
          unfilled.push(job.name);
          progress.above(() =>
            warn(`generate: ${job.name}: all ${all.length} seeds tried gave an empty mask (${rejectedSeeds.join(', ')}); no case kept for it`),
          );
        }
        progress.update({ done: ++done, generated, elapsedMs });
        continue;
      }
      const { t, pixels, ms } = made;
      const { record, files } = await caseFiles(
        {
          seed: t.seed,
          mode: job.mode.kind,
          steps,
          eta,
          clip,
          binarize: manifest.sampler.binarize,
          appVersion: version,
          format: opts.format,
          prefix: t.prefix,
          source: t.source,
          model,
          ...(attributes ? { attributes: { ...t.attributes }, guidance: attributes.guidance } : {}),
          ...(opts.rejectEmpty ? { rejectedSeeds } : {}),
        },
        pixels,
        manifest.resolution,
      );
      await writeCase(opts.out, model, record, files, unsynced);
      generated++;
      progress.above(() => say(`seed ${t.seed}: ${ms.toFixed(0)} ms, ${(ms / steps).toFixed(2)} ms/step → ${t.name}${record.empty ? ' (empty mask)' : ''}`));
      progress.update({ done: ++done, generated, elapsedMs });
    }
  } catch (e) {
    // the index describes the cases written so far (on a full disk it may not be writable either:
    // then the records still are the truth, and the next run rebuilds from them)
    if (generated > 0) await rebuild().catch(() => undefined);
    throw e;
  } finally {
    progress.end();
  }
  const total = await rebuild();
  const runs = generated + rejected;
  const perPair = runs > 0 ? `, ${(elapsedMs / runs).toFixed(0)} ms/pair, ${(elapsedMs / runs / steps).toFixed(2)} ms/step` : '';
  const rejects = opts.rejectEmpty ? `, rejected ${rejected} empty mask${rejected === 1 ? '' : 's'}` : '';
  say(`generated ${generated}, skipped ${skipped} complete${rejects}${perPair}; ${opts.out} now holds ${total} cases`);
  if (unfilled.length > 0)
    warn(
      `generate: ${unfilled.length} case${unfilled.length === 1 ? '' : 's'} (${unfilled.slice(0, 5).join(', ')}${unfilled.length > 5 ? ', …' : ''}) gave only empty masks in ${REJECT_EMPTY_RETRIES + 1} seeds each and ${unfilled.length === 1 ? 'is' : 'are'} missing; the model rarely draws a lesion here: check its settings (--attr, --guidance) or run without --reject-empty`,
    );
  const why = stopped();
  if (why) {
    const cause = why === 'EPIPE' ? 'its output pipe closing (EPIPE)' : why;
    warn(
      `generate: interrupted by ${cause} after ${done} of ${jobs.length} cases; run again with --resume to finish (${opts.out} holds ${total} complete cases, all indexed)`,
    );
    process.exitCode = EXIT_CODE[why];
  }
}

async function main(): Promise<void> {
  // SIGINT/SIGTERM (Ctrl-C, a job being preempted), or stdout's reader gone (`| head -1`): finish
  // the case in hand, rebuild the index, exit 128 + signal number. A second signal finds no handler
  // (once) and ends the process at once; the atomic writes keep the folder consistent either way.
  let interrupted: Interruption | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupted ??= sig;
    warn(`\ngenerate: ${sig}: stopping after the current case (send it again to stop now)`);
  };
  for (const stream of [process.stdout, process.stderr]) {
    // a write to a closed pipe fails asynchronously, as an 'error' event: without a listener, a crash
    stream.on('error', (e: NodeJS.ErrnoException) => {
      closed.add(stream);
      if (e.code === 'EPIPE') interrupted ??= 'EPIPE';
    });
  }
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const opts = parseCommandLine(process.argv.slice(2));
    if (opts === 'help') {
      for (const line of USAGE.split('\n')) say(line); // our own text: its line breaks are real
      return;
    }
    if (opts === 'version') {
      say(`pig-generate ${await appVersion()}`);
      return;
    }
    await run(opts, () => interrupted);
  } catch (e) {
    // one line: multi-line messages (a manifest with several bad fields) are joined; except a list
    // of bad mask files (mask-folder.ts names every bad file of a folder at once) and the settings
    // a folder differs in, one per line
    const lines = e instanceof MaskFolderError || e instanceof SettingsMismatchError;
    const message = lines ? errorMessage(e) : errorMessage(e).replace(/\s*\n\s*-?\s*/g, '; ');
    const hint = e instanceof UsageError ? ' (--help lists the options)' : '';
    const what = e instanceof OutputFolderError ? 'bad output folder: ' : e instanceof MaskFolderError ? `bad ${e.kind}s: ` : '';
    warn(`generate: ${what}${message}${hint}`);
    process.exitCode = e instanceof UsageError ? 2 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

await main();
