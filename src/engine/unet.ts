// One exported U-Net as an ONNX Runtime session, and the pair of them as core's PairDenoiser.
//
// The `ort` module is a parameter (onnxruntime-web in the browser, onnxruntime-node in Node); this
// file imports only its types, so the same code runs in both. Both packages re-export the same
// onnxruntime-common API.
//
// Data path (the reference, used on WASM, in Node and by the CLI): each step the input [x_t, y_t]
// (or [y_t, c]) is a CPU float32 tensor and ε is read back to the CPU, where core's CPU executor
// runs the DDIM update and B(·). On WebGPU, models that ship step graphs (contracts.md §1b) run
// instead through engine/steps.ts, which keeps x_t, y_t and c on the GPU; models without them use
// this path there too (one upload and one readback of H·W floats per model call).

import type * as Ort from 'onnxruntime-web';
import { errorMessage } from '../core/errors';
import type { PairDenoiser } from '../core/executor';
import { ATTRIBUTE_INPUT, checkSessionSignature, type ModelFileSpec, type ModelKey, type ModelRole } from '../core/manifest';
import { EngineError } from './errors';

export type OrtModule = Pick<typeof Ort, 'InferenceSession' | 'Tensor'>;
export type SessionOptions = Ort.InferenceSession.SessionOptions;
type Session = Ort.InferenceSession;

/**
 * One model's verified files (engine/pair.ts readModelBytes): its graph, and the weights file the
 * graph keeps its large tensors in (ONNX external data, contracts.md §2) where the manifest names
 * one; `file` is the location the graph names.
 */
export interface ModelBytes {
  graph: Uint8Array;
  weights?: { file: string; data: Uint8Array };
}

/**
 * An ORT session over one model file of the manifest (a U-Net or a step graph), its inputs and
 * outputs checked against the manifest's: EngineError('model') when they differ (the session is
 * released). A session ORT cannot create is a plain Error naming the file, so the caller may retry
 * on another backend. A weights file goes to ORT as the graph's `externalData` (bytes, never a path).
 */
export async function openCheckedSession(ort: OrtModule, role: ModelKey, spec: ModelFileSpec, bytes: ModelBytes, options: SessionOptions): Promise<Session> {
  let session: Session;
  try {
    const external = bytes.weights ? { externalData: [{ path: bytes.weights.file, data: bytes.weights.data }] } : {};
    session = await ort.InferenceSession.create(bytes.graph, { ...options, ...external });
  } catch (e) {
    throw new Error(`${spec.file} (${role} model): ${errorMessage(e)}`, { cause: e });
  }
  const problems = checkSessionSignature(role, spec, session);
  if (problems.length) {
    await session.release().catch(() => undefined);
    throw new EngineError('model', problems.join('; '));
  }
  return session;
}

/** Serialises session runs: ORT-web refuses concurrent runs, and one at a time is what we want. */
export class RunQueue {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/** The static shape of a tensor the manifest lists for a model (validated: present, positive integers). */
export function listedShape(spec: ModelFileSpec, kind: 'inputs' | 'outputs', name: string): number[] {
  const shape = spec[kind].find((s) => s.name === name)?.shape;
  if (!shape) throw new EngineError('model', `${spec.file}: the manifest lists no ${kind.slice(0, -1)} "${name}"`);
  return shape;
}

const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export class UNetSession {
  /** x's shape [1, 1 + C, h, w] (format 1: [1, 2, H, W]), ε's [1, 1 or C, h, w], and a's [1, K] on a model with attributes. */
  private readonly xShape: number[];
  private readonly epsShape: number[];
  private readonly aShape: number[] | null;

  private constructor(
    private readonly ort: OrtModule,
    private readonly session: Session,
    readonly role: ModelRole,
    readonly spec: ModelFileSpec,
    readonly height: number,
    readonly width: number,
    private readonly queue: RunQueue,
    /** The code fed as `a` when a run gives none: all "any" (models with attributes). */
    private readonly defaultCode: Float32Array | null,
  ) {
    this.xShape = listedShape(spec, 'inputs', 'x');
    this.epsShape = listedShape(spec, 'outputs', 'eps');
    this.aShape = spec.inputs.some((s) => s.name === ATTRIBUTE_INPUT) ? listedShape(spec, 'inputs', ATTRIBUTE_INPUT) : null;
  }

  /**
   * Opens the model bytes (already verified against the manifest's sha256) as a session whose
   * inputs/outputs match the manifest (openCheckedSession: EngineError('model') when they do not;
   * other session-creation failures are plain Errors, the caller decides whether they are a
   * backend problem).
   */
  static async create(
    ort: OrtModule,
    role: ModelRole,
    spec: ModelFileSpec,
    bytes: ModelBytes,
    [height, width]: [number, number],
    options: SessionOptions,
    queue: RunQueue,
    defaultCode: Float32Array | null = null,
  ): Promise<UNetSession> {
    return new UNetSession(ort, await openCheckedSession(ort, role, spec, bytes, options), role, spec, height, width, queue, defaultCode);
  }

  /**
   * ε for an input x of the manifest's shape ([1, 2, H, W]; [1, 1 + C, h, w] on a latent model) at
   * integer step t, and on a model with attributes the one-hot code `a` (default: all "any").
   * Tensors are disposed after the run.
   */
  run(input: Float32Array, t: number, a?: Float32Array): Promise<Float32Array> {
    const code = this.aShape ? (a ?? this.defaultCode) : null;
    if (input.length !== count(this.xShape))
      throw new EngineError('input', `${this.spec.file}: input has ${input.length} values, expected ${this.xShape.slice(1).join('×')}`);
    if (a && !this.aShape) throw new EngineError('input', `${this.spec.file} takes no attribute code a: this model has no attributes`);
    if (this.aShape && (!code || code.length !== count(this.aShape)))
      throw new EngineError('input', `${this.spec.file}: the attribute code a has ${code?.length ?? 0} values, expected ${count(this.aShape)}`);
    return this.queue.run(async () => {
      const x = new this.ort.Tensor('float32', input, this.xShape);
      const tt = new this.ort.Tensor('float32', Float32Array.of(t), [1]);
      const at = code && this.aShape ? new this.ort.Tensor('float32', code, this.aShape) : null;
      let out: Ort.Tensor | undefined;
      try {
        const result = await this.session.run(at ? { x, t: tt, [ATTRIBUTE_INPUT]: at } : { x, t: tt });
        out = result.eps ?? result[this.session.outputNames[0]];
        return await ownedFloat32(out, this.spec.file, this.epsShape);
      } finally {
        x.dispose();
        tt.dispose();
        at?.dispose();
        out?.dispose();
      }
    });
  }

  /** One run on zeros: compiles shaders / allocates arenas so the first real step is not slow. */
  async warmUp(): Promise<void> {
    await this.run(new Float32Array(count(this.xShape)), 0);
  }

  async release(): Promise<void> {
    await this.queue.run(() => this.session.release());
  }
}

/** A session's float32 output of `shape`, copied so the caller owns it; EngineError('model') when it is not. */
export async function ownedFloat32(out: Ort.Tensor, file: string, shape: readonly number[]): Promise<Float32Array> {
  const data = (await out.getData()) as Float32Array;
  if (!(data instanceof Float32Array) || data.length !== count(shape)) {
    throw new EngineError('model', `${file} returned ${data?.length} values of type ${out.type}, expected float32 [${shape.join(', ')}]`);
  }
  // getData() of a CPU tensor returns its own buffer; copy so the caller owns the result.
  return data.slice();
}

/** The two sessions as the sampler's denoiser (contracts.md §1). */
export class OrtPairDenoiser implements PairDenoiser {
  constructor(
    readonly mask: UNetSession,
    readonly image: UNetSession,
  ) {}

  predictMaskNoise(xy: Float32Array, t: number, a?: Float32Array): Promise<Float32Array> {
    return wrapRun(this.mask, xy, t, a);
  }

  predictImageNoise(yc: Float32Array, t: number, a?: Float32Array): Promise<Float32Array> {
    return wrapRun(this.image, yc, t, a);
  }

  async release(): Promise<void> {
    await Promise.all([this.mask.release(), this.image.release()]);
  }
}

async function wrapRun(s: UNetSession, input: Float32Array, t: number, a?: Float32Array): Promise<Float32Array> {
  try {
    return await s.run(input, t, a);
  } catch (e) {
    if (e instanceof EngineError) throw e;
    throw new EngineError('backend', `${s.spec.file} (${s.role} model) failed to run at t=${t}: ${errorMessage(e)}`, { cause: e });
  }
}
