// Loading a model pair from its folder: manifest → verified bytes → two sessions → warm-up.
// Two paths, one per kind of model file (contracts.md §1 and §1b):
//   createPair      the plain U-Nets; core's CPU executor does DDIM and B(·) (WASM, Node, CLI)
//   createStepPair  the step graphs; the engine's executor keeps x_t, y_t, c where the sessions
//                   run (WebGPU: GPU buffers); a run whose clip they cannot do (graphs exported
//                   before the option) runs on the plain U-Nets, opened the first time one asks
// Platform-neutral: the ORT module and the way files are read come in as parameters
// (engine/web.ts: fetch + onnxruntime-web; engine/node.ts: fs + onnxruntime-node).

import { attributeCode } from '../core/attributes';
import { errorMessage } from '../core/errors';
import type { StepExecutor, StepExecutorFactory } from '../core/executor';
import { type LatentRun, latentRun } from '../core/latent';
import { MAX_MANIFEST_CHARS } from '../core/limits';
import {
  attributesOf,
  type CodecRole,
  chainGrid,
  latentOf,
  type Manifest,
  type ModelKey,
  type ModelRole,
  STEP_GRAPH_ROLES,
  type StepGraphRole,
  validateManifest,
  verifyModelBytes,
  verifyWeightsBytes,
  weightsUsers,
} from '../core/manifest';
import { checkExternalData, checkOnnxBytes } from '../core/onnx-header';
import { cpuStepExecutors } from '../core/sampler-cpu';
import { linearSchedule, type Schedule } from '../core/schedule';
import { OrtLatentCodec } from './codec';
import { EngineError } from './errors';
import { type StepRunner, StepSession, stepGraphExecutors, type TensorPlace } from './steps';
import { type ModelBytes, type OrtModule, OrtPairDenoiser, RunQueue, type SessionOptions, UNetSession } from './unet';

/** Where a model folder's files come from. */
export interface ModelSource {
  /** Human-readable location of a file, for messages (a URL or a path). */
  describe(name: string): string;
  readText(name: string): Promise<string>;
  /** onProgress (optional): bytes received so far and the expected total when known. */
  readBytes(name: string, onProgress?: (receivedBytes: number, totalBytes: number | null) => void): Promise<Uint8Array>;
  /**
   * The bytes readBytes gave for `name` failed verification: drops a cached copy and returns the
   * file from its origin (null: they did not come from a cache, so there is no other copy). Called
   * once per failed file; a throw is the load's error.
   */
  reread?(name: string): Promise<Uint8Array | null>;
}

/** Which model files run the steps. */
export type StepPath = 'plain' | 'step-graphs';

/**
 * A pair of models opened in ONNX Runtime, whichever path: what core's sampler needs to run it.
 * (The worker's LoadedModel, src/worker/studio.ts, is the model as the Studio holds it.)
 */
export interface OpenedPair {
  manifest: Manifest;
  schedule: Schedule;
  /** A latent model's latent and opened autoencoder, for the sampler's `latent` (null: pixel space). */
  latent: LatentRun | null;
  /** Runs each step: core's CPU executor over the plain U-Nets, or the step graphs. */
  executors: StepExecutorFactory;
  path: StepPath;
  /** ms spent creating sessions and warming up (excludes downloads). */
  sessionMs: number;
  release(): Promise<void>;
}

/** The plain U-Nets (contracts.md §1), also usable directly as core's PairDenoiser. */
export interface LoadedPair extends OpenedPair {
  path: 'plain';
  denoiser: OrtPairDenoiser;
}

/** The step graphs (contracts.md §1b). */
export interface LoadedStepPair extends OpenedPair {
  path: 'step-graphs';
  /** The two sessions themselves (the benchmark times one run of each). */
  sessions: { maskStep: StepRunner; imageStep: StepRunner };
}

/** What createStepPair needs of a step graph's session: a StepSession, unless `open` makes another kind. */
export interface OpenedStepSession extends StepRunner {
  warmUp(resolution: [number, number]): Promise<void>;
  release(): Promise<void>;
}

/** Opens one step graph's session as StepSession.create does (the benchmark's graph-captured sessions, bench/capture.ts). */
export type StepSessionOpener = (...args: Parameters<typeof StepSession.create>) => Promise<OpenedStepSession>;

/** Reads and validates manifest.json; EngineError('model') with the field named on failure. */
export async function readManifest(source: ModelSource): Promise<Manifest> {
  let text: string;
  try {
    text = await source.readText('manifest.json');
  } catch (e) {
    throw new EngineError('model', errorMessage(e), { cause: e });
  }
  if (text.length > MAX_MANIFEST_CHARS)
    throw new EngineError('model', `${source.describe('manifest.json')} is ${text.length} characters, more than a model manifest (${MAX_MANIFEST_CHARS})`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    const hint = /^\s*</.test(text) ? ' (got HTML: is the model folder right?)' : '';
    throw new EngineError('model', `${source.describe('manifest.json')} is not valid JSON${hint}`);
  }
  try {
    return validateManifest(json);
  } catch (e) {
    throw new EngineError('model', `${source.describe('manifest.json')}: ${errorMessage(e)}`, { cause: e });
  }
}

/** What createPair opens: both U-Nets, and a latent model's encoder and decoder. */
export type PairBytes = Record<ModelRole, ModelBytes> & Partial<Record<CodecRole, ModelBytes>>;

/** The models createPair opens for a manifest: the U-Nets, and the autoencoder of a latent model. */
function pairKeys(manifest: Manifest): ModelKey[] {
  return latentOf(manifest) ? ['mask', 'image', 'encoder', 'decoder'] : ['mask', 'image'];
}

/**
 * Weights files being read (file name → verified bytes): pass one map to several readModelBytes
 * calls and a U-Net's plain and step graphs share one read of their weights file.
 */
export type WeightsReads = Map<string, Promise<Uint8Array>>;

async function readVerified(source: ModelSource, file: string, verify: (bytes: Uint8Array) => Promise<void> | void): Promise<Uint8Array> {
  const read = async <T>(reading: () => Promise<T>): Promise<T> => {
    try {
      return await reading();
    } catch (e) {
      throw new EngineError('model', errorMessage(e), { cause: e });
    }
  };
  /** verify's error, or null when the bytes pass. */
  const failureOf = async (bytes: Uint8Array): Promise<{ error: unknown } | null> => {
    try {
      await verify(bytes);
      return null;
    } catch (error) {
      return { error };
    }
  };
  let bytes = await read(() => source.readBytes(file));
  let failure = await failureOf(bytes);
  // a corrupt cached copy is evicted and the origin's file read once instead (ModelSource.reread)
  const fresh = failure && source.reread ? await read(() => source.reread!(file)) : null;
  if (fresh) {
    bytes = fresh;
    failure = await failureOf(bytes);
  }
  if (failure) throw new EngineError('model', `${source.describe(file)}: ${errorMessage(failure.error)}`, { cause: failure.error });
  return bytes;
}

/**
 * Fetches the model files of `keys` (default: both U-Nets) and the weights files they name (each
 * once, `weights` shared across calls), verifies size and SHA-256 against the manifest, that each
 * graph is structurally an ONNX model, and that it keeps tensors in no file but its weights file.
 */
export async function readModelBytes(source: ModelSource, manifest: Manifest, keys?: 'pair', weights?: WeightsReads): Promise<PairBytes>;
export async function readModelBytes<K extends ModelKey>(
  source: ModelSource,
  manifest: Manifest,
  keys: readonly K[],
  weights?: WeightsReads,
): Promise<Record<K, ModelBytes>>;
export async function readModelBytes(
  source: ModelSource,
  manifest: Manifest,
  which: readonly ModelKey[] | 'pair' = 'pair',
  weights: WeightsReads = new Map(),
): Promise<Partial<Record<ModelKey, ModelBytes>>> {
  const keys = which === 'pair' ? pairKeys(manifest) : which;
  const readWeights = (file: string): Promise<Uint8Array> => {
    let reading = weights.get(file);
    if (!reading) {
      const spec = Object.values(manifest.models).find((m) => m?.weights?.file === file)!.weights!;
      // a failed read is not kept: the next caller tries again
      reading = readVerified(source, file, (bytes) => verifyWeightsBytes(weightsUsers(manifest, file), spec, bytes)).catch((e: unknown) => {
        weights.delete(file);
        throw e;
      });
      weights.set(file, reading);
    }
    return reading;
  };
  const read = async (role: ModelKey): Promise<ModelBytes> => {
    const spec = manifest.models[role];
    if (!spec) throw new EngineError('model', `${source.describe('manifest.json')} lists no models.${role}`);
    const label = `${spec.file} (${role} model)`;
    // the weights file is fetched beside the graph, not after it
    const data = spec.weights ? readWeights(spec.weights.file) : null;
    data?.catch(() => undefined); // awaited below; a graph that fails first is the error reported
    const graph = await readVerified(source, spec.file, async (bytes) => {
      await verifyModelBytes(role, spec, bytes);
      // After the SHA-256 check: a file that matches a manifest written for it is the exported
      // model, so this only speaks when the manifest itself describes a damaged file.
      checkOnnxBytes(label, bytes);
      // ONNX Runtime reads external data only from what it is given, but in Node it looks for a
      // location it is not given on the disk: the graph may name no file but its manifest's.
      checkExternalData(label, bytes, spec.weights?.file);
    });
    return spec.weights && data ? { graph, weights: { file: spec.weights.file, data: await data } } : { graph };
  };
  const all = await Promise.all(keys.map(read));
  return Object.fromEntries(keys.map((k, i) => [k, all[i]]));
}

/**
 * Creates both sessions with the given options, checks them against the manifest and warms each
 * up once. A failure to create or run is thrown as is (not an EngineError) unless it is a
 * signature mismatch, so the caller can retry on another backend.
 */
export async function createPair(
  ort: OrtModule,
  manifest: Manifest,
  bytes: PairBytes,
  options: SessionOptions,
  { warmUp = true }: { warmUp?: boolean } = {},
): Promise<LoadedPair> {
  const started = performance.now();
  const queue = new RunQueue();
  // the U-Nets run on the chains' grid; a model with attributes gets the all-"any" code unless a run gives one
  const grid = chainGrid(manifest);
  const attributes = attributesOf(manifest);
  const anyCode = attributes.length > 0 ? attributeCode(attributes) : null;
  const opened: { release(): Promise<void> }[] = [];
  const release = () => Promise.all(opened.map((s) => s.release())).then(() => undefined);
  try {
    const mask = await UNetSession.create(ort, 'mask', manifest.models.mask, bytes.mask, grid, options, queue, anyCode);
    opened.push(mask);
    const image = await UNetSession.create(ort, 'image', manifest.models.image, bytes.image, grid, options, queue, anyCode);
    opened.push(image);
    let codec: OrtLatentCodec | null = null;
    if (latentOf(manifest)) {
      const { encoder, decoder } = manifest.models;
      if (!encoder || !decoder || !bytes.encoder || !bytes.decoder)
        throw new EngineError('model', `${manifest.name} is a latent model: its encoder and decoder must be read`);
      codec = await OrtLatentCodec.create(ort, { encoder, decoder }, { encoder: bytes.encoder, decoder: bytes.decoder }, options, queue);
      opened.push(codec);
    }
    if (warmUp) {
      await mask.warmUp();
      await image.warmUp();
      await codec?.warmUp();
    }
    const denoiser = new OrtPairDenoiser(mask, image);
    return {
      manifest,
      schedule: linearSchedule(manifest.schedule),
      latent: latentRun(manifest, codec),
      denoiser,
      executors: cpuStepExecutors(denoiser),
      path: 'plain',
      sessionMs: performance.now() - started,
      release,
    };
  } catch (e) {
    await release().catch(() => undefined);
    throw e;
  }
}

/**
 * Executors over a pair opened on the first run that asks for one (each run's executor waits for
 * it in start()); a failed opening is tried again by the next run. release() closes it if opened.
 */
export function openedOnDemand(open: () => Promise<OpenedPair>): { executors: StepExecutorFactory; release(): Promise<void> } {
  let opening: Promise<OpenedPair> | null = null;
  const model = () =>
    (opening ??= open().catch((e: unknown) => {
      opening = null;
      throw e;
    }));
  return {
    executors: {
      create: (run) => {
        let inner: StepExecutor | null = null;
        return {
          start: async (init) => {
            inner = (await model()).executors.create(run);
            await inner.start(init);
          },
          maskStep: (step, yt) => inner!.maskStep(step, yt),
          imageStep: (step) => inner!.imageStep(step),
          read: (names) => inner!.read(names),
          finish: async () => inner?.finish(),
        };
      },
    },
    release: async () => {
      const opened = await opening?.catch(() => null);
      await opened?.release();
    },
  };
}

/**
 * Creates both step-graph sessions, checks them against the manifest and warms each up once.
 * `place` (called once the sessions exist, when a WebGPU device is known) says where the run's
 * tensors live. `plain` opens the plain U-Nets, for runs whose clip the graphs cannot do (without
 * it those are refused). `open` opens each session (default StepSession.create). Failures are
 * thrown as in createPair.
 */
export async function createStepPair(
  ort: OrtModule,
  manifest: Manifest,
  bytes: Record<StepGraphRole, ModelBytes>,
  options: SessionOptions,
  place: () => TensorPlace | Promise<TensorPlace>,
  {
    warmUp = true,
    plain,
    open = (...args) => StepSession.create(...args),
  }: { warmUp?: boolean; plain?: () => Promise<LoadedPair>; open?: StepSessionOpener } = {},
): Promise<LoadedStepPair> {
  const started = performance.now();
  const queue = new RunQueue();
  const sessions: OpenedStepSession[] = [];
  const fallback = plain ? openedOnDemand(plain) : null;
  const release = () => Promise.all([...sessions.map((s) => s.release()), fallback?.release()]).then(() => undefined);
  try {
    for (const role of STEP_GRAPH_ROLES) {
      sessions.push(await open(ort, role, manifest.models[role]!, bytes[role], options, queue));
    }
    const [maskStep, imageStep] = sessions;
    if (warmUp) {
      await maskStep.warmUp(manifest.resolution);
      await imageStep.warmUp(manifest.resolution);
    }
    return {
      manifest,
      schedule: linearSchedule(manifest.schedule),
      latent: null, // step graphs are format 1's
      executors: stepGraphExecutors(ort, { maskStep, imageStep }, await place(), manifest.resolution, fallback?.executors),
      path: 'step-graphs',
      sessions: { maskStep, imageStep },
      sessionMs: performance.now() - started,
      release,
    };
  } catch (e) {
    await release().catch(() => undefined);
    throw e;
  }
}
