// Loading a model pair from its folder: manifest → verified bytes → two sessions → warm-up.
// Platform-neutral: the ORT module and the way files are read come in as parameters
// (engine/web.ts: fetch + onnxruntime-web; engine/node.ts: fs + onnxruntime-node).

import { validateManifest, verifyModelBytes, type Manifest, type ModelRole } from '../core/manifest';
import { linearSchedule, type Schedule } from '../core/schedule';
import { EngineError, errorMessage } from './errors';
import { OrtPairDenoiser, RunQueue, UNetSession, type OrtModule, type SessionOptions } from './unet';

/** Where a model folder's files come from. */
export interface ModelSource {
  /** Human-readable location of a file, for messages (a URL or a path). */
  describe(name: string): string;
  readText(name: string): Promise<string>;
  readBytes(name: string): Promise<Uint8Array>;
}

export interface LoadedPair {
  manifest: Manifest;
  schedule: Schedule;
  denoiser: OrtPairDenoiser;
  /** ms spent creating sessions and warming up (excludes downloads). */
  sessionMs: number;
  release(): Promise<void>;
}

/** Reads and validates manifest.json; EngineError('model') with the field named on failure. */
export async function readManifest(source: ModelSource): Promise<Manifest> {
  let text: string;
  try {
    text = await source.readText('manifest.json');
  } catch (e) {
    throw new EngineError('model', errorMessage(e), { cause: e });
  }
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

/** Fetches both model files and verifies size and SHA-256 against the manifest. */
export async function readModelBytes(source: ModelSource, manifest: Manifest): Promise<Record<ModelRole, Uint8Array>> {
  const read = async (role: ModelRole) => {
    const spec = manifest.models[role];
    let bytes: Uint8Array;
    try {
      bytes = await source.readBytes(spec.file);
    } catch (e) {
      throw new EngineError('model', errorMessage(e), { cause: e });
    }
    try {
      await verifyModelBytes(role, spec, bytes);
    } catch (e) {
      throw new EngineError('model', `${source.describe(spec.file)}: ${errorMessage(e)}`, { cause: e });
    }
    return bytes;
  };
  const [mask, image] = await Promise.all([read('mask'), read('image')]);
  return { mask, image };
}

/**
 * Creates both sessions with the given options, checks them against the manifest and warms each
 * up once. A failure to create or run is thrown as is (not an EngineError) unless it is a
 * signature mismatch, so the caller can retry on another backend.
 */
export async function createPair(
  ort: OrtModule,
  manifest: Manifest,
  bytes: Record<ModelRole, Uint8Array>,
  options: SessionOptions,
  { warmUp = true }: { warmUp?: boolean } = {},
): Promise<LoadedPair> {
  const started = performance.now();
  const queue = new RunQueue();
  const res = manifest.resolution;
  const mask = await UNetSession.create(ort, 'mask', manifest.models.mask, bytes.mask, res, options, queue);
  let image: UNetSession;
  try {
    image = await UNetSession.create(ort, 'image', manifest.models.image, bytes.image, res, options, queue);
  } catch (e) {
    await mask.release().catch(() => undefined);
    throw e;
  }
  const denoiser = new OrtPairDenoiser(mask, image);
  if (warmUp) {
    try {
      await mask.warmUp();
      await image.warmUp();
    } catch (e) {
      await denoiser.release().catch(() => undefined);
      throw e;
    }
  }
  return {
    manifest,
    schedule: linearSchedule(manifest.schedule),
    denoiser,
    sessionMs: performance.now() - started,
    release: () => denoiser.release(),
  };
}
