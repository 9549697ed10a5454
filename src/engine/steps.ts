// The step-graph executor: each joint step runs as two ONNX sessions (contracts.md §1b),
//   maskStep (x_t, y_t, t, k, z[, clip]) → (x_prev, x0, c = B(x̂₀))
//   imageStep (y_t, c, t, k, z[, clip])  → (y_prev, y0)
// and x_t, y_t, c stay where the sessions put them: on WebGPU the sessions are created with
// `preferredOutputLocation: 'gpu-buffer'`, so every output is a GPU tensor that is fed as is to the
// next run. x_T, y_T (and a mask → image condition) are uploaded once, the zeros z and each
// graph's clip flag once per run; per step only t, k (6 floats) and, for η > 0, z go up. Only
// what core's loop asks `read` for comes back (tensor.getData()): the previews when they are on,
// else the final c and ŷ₀. Graphs exported before the option clip have no clip input: they run
// clip none; a run that clips a chain whose graph cannot goes to the plain U-Nets (`plain`),
// never to a graph that would ignore it.
//
// The loop itself (time pairs, noise streams, frames, cancel, final pair) is core's sampleSteps;
// this file only implements its StepExecutor. On onnxruntime-node the same code runs with CPU
// tensors (cpuPlace), which is how the Node tests check it against the golden fixture.

import type * as Ort from 'onnxruntime-web';
import type { BinarizeOptions } from '../core/binarize';
import { type ClipMode, clipsChain } from '../core/ddim';
import { errorMessage } from '../core/errors';
import type { EstimateName, Estimates, StepCall, StepExecutor, StepExecutorFactory } from '../core/executor';
import { type ModelFileSpec, STEP_GRAPH_BINARIZE, STEP_GRAPH_CLIP_INPUT, STEP_GRAPH_IO, type StepGraphRole, stepGraphShape, takesClip } from '../core/manifest';
import { EngineError } from './errors';
import { type ModelBytes, type OrtModule, openCheckedSession, type RunQueue, type SessionOptions } from './unet';

type Tensor = Ort.Tensor;

/** Where full-size tensors live for the step sessions, and how data gets there. */
export interface TensorPlace {
  /** 'gpu-buffer' or 'cpu', for messages and tests. */
  readonly location: string;
  /** A float32 tensor of `dims` holding a copy of `data`, where the sessions read it. The caller disposes it. */
  upload(data: Float32Array, dims: readonly number[]): Tensor;
  /** A float32 tensor of zeros. The caller disposes it. */
  zeros(dims: readonly number[]): Tensor;
  /** Resolves when the device has finished all work submitted so far (CPU: at once). */
  workDone(): Promise<void>;
}

/** Plain CPU tensors (onnxruntime-node, or any CPU execution provider). */
export function cpuPlace(ort: OrtModule): TensorPlace {
  const size = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
  return {
    location: 'cpu',
    upload: (data, dims) => new ort.Tensor('float32', data.slice(), dims),
    zeros: (dims) => new ort.Tensor('float32', new Float32Array(size(dims)), dims),
    workDone: () => Promise.resolve(),
  };
}

/** One step graph as a session, checked against its manifest entry; runs go through the shared queue. */
export class StepSession {
  /** Whether the graph has the clip input (exported since the option; checked against the session). */
  readonly takesClip: boolean;

  private constructor(
    private readonly ort: OrtModule,
    private readonly session: Ort.InferenceSession,
    readonly role: StepGraphRole,
    readonly spec: ModelFileSpec,
    private readonly queue: RunQueue,
  ) {
    this.takesClip = takesClip(spec);
  }

  /** Opens a step graph (openCheckedSession: EngineError('model') when the signature differs from the manifest). */
  static async create(
    ort: OrtModule,
    role: StepGraphRole,
    spec: ModelFileSpec,
    bytes: ModelBytes,
    options: SessionOptions,
    queue: RunQueue,
  ): Promise<StepSession> {
    return new StepSession(ort, await openCheckedSession(ort, role, spec, bytes, options), role, spec, queue);
  }

  /** Runs on the given feeds; returns every contract output (the caller disposes them). */
  run(feeds: Record<string, Tensor>, t: number): Promise<Record<string, Tensor>> {
    return this.queue.run(async () => {
      let out: Ort.InferenceSession.OnnxValueMapType;
      try {
        out = await this.session.run(feeds);
      } catch (e) {
        throw new EngineError('backend', `${this.spec.file} (${this.role} model) failed to run at t=${t}: ${errorMessage(e)}`, { cause: e });
      }
      const missing = STEP_GRAPH_IO[this.role].outputs.filter((name) => !out[name]);
      if (missing.length) {
        for (const v of Object.values(out)) (v as Tensor).dispose();
        throw new EngineError('model', `${this.spec.file} (${this.role} model) returned no ${missing.map((m) => `"${m}"`).join(', ')}`);
      }
      return out as Record<string, Tensor>;
    });
  }

  /** One run on zeros (CPU inputs), outputs disposed: compiles shaders, sizes the buffer pools. */
  async warmUp([height, width]: [number, number]): Promise<void> {
    const feeds: Record<string, Tensor> = {};
    for (const { name } of this.spec.inputs) {
      const dims = stepGraphShape(name, [height, width]);
      feeds[name] = new this.ort.Tensor('float32', name === 'k' ? Float32Array.of(1, 0, 1, 0, 0) : new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
    }
    try {
      const out = await this.run(feeds, 0);
      for (const v of Object.values(out)) v.dispose();
    } finally {
      for (const v of Object.values(feeds)) v.dispose();
    }
  }

  async release(): Promise<void> {
    await this.queue.run(() => this.session.release());
  }
}

/**
 * What the executor needs of a step graph's session: a StepSession, or another session that runs
 * the same graph (the benchmark's graph-captured sessions, bench/capture.ts).
 */
export type StepRunner = Pick<StepSession, 'role' | 'spec' | 'takesClip' | 'run'>;

/** The tensors one run holds between calls. */
type Held = 'x' | 'y' | 'condition' | 'zeros' | 'clipMask' | 'clipImage' | EstimateName;

class GraphStepExecutor implements StepExecutor {
  private readonly held: Partial<Record<Held, Tensor>> = {};
  private readonly dims: number[];
  /** The device's completion of the work submitted up to the previous run (see settle). */
  private previousDone: Promise<void> | null = null;

  constructor(
    private readonly ort: OrtModule,
    private readonly mask: StepRunner,
    private readonly image: StepRunner,
    private readonly place: TensorPlace,
    height: number,
    width: number,
    private readonly clip: ClipMode,
  ) {
    this.dims = [1, 1, height, width];
  }

  /** Holds `t` under `key`, disposing what was there (a tensor no longer needed). */
  private hold(key: Held, t: Tensor | undefined): void {
    const old = this.held[key];
    if (old && old !== t) old.dispose();
    if (t) this.held[key] = t;
    else delete this.held[key];
  }

  async start(init: { xT: Float32Array; yT: Float32Array; condition: Float32Array | null }): Promise<void> {
    this.hold('x', this.place.upload(init.xT, this.dims));
    this.hold('y', this.place.upload(init.yT, this.dims));
    this.hold('condition', init.condition ? this.place.upload(init.condition, this.dims) : undefined);
    this.hold('zeros', this.place.zeros(this.dims));
    // each graph's clip flag, where it takes one (create() sent runs that need a missing one elsewhere)
    const flag = (chain: 'mask' | 'image') => this.place.upload(Float32Array.of(clipsChain(this.clip, chain) ? 1 : 0), [1]);
    this.hold('clipMask', this.mask.takesClip ? flag('mask') : undefined);
    this.hold('clipImage', this.image.takesClip ? flag('image') : undefined);
  }

  /** The clip input of a graph that takes one. */
  private clipFeed(key: 'clipMask' | 'clipImage'): Record<string, Tensor> {
    const flag = this.held[key];
    return flag ? { [STEP_GRAPH_CLIP_INPUT]: flag } : {};
  }

  /**
   * After each run: waits until the run before it has finished on the device. On WebGPU, run()
   * resolves once its work is submitted, not done; a step whose estimates nobody reads (previews
   * off) would otherwise return at once and the loop would queue every step of the run on the GPU
   * within a second: progress would run ahead of the GPU and Cancel could not stop the queued work.
   * One run stays in flight behind the one executing, so the GPU never idles between runs.
   */
  private async settle(): Promise<void> {
    const previous = this.previousDone;
    this.previousDone = this.place.workDone();
    if (previous) await previous;
  }

  /** t and k as small CPU tensors; z uploaded for this step or the run's zeros. */
  private stepFeeds(step: StepCall, temps: Tensor[]): { t: Tensor; k: Tensor; z: Tensor } {
    const { k } = step;
    const t = new this.ort.Tensor('float32', Float32Array.of(step.t), [1]);
    const kk = new this.ort.Tensor('float32', Float32Array.of(k.sqrtAlphaBar, k.sqrtOneMinusAlphaBar, k.sqrtAlphaBarPrev, k.c1, k.c2), [5]);
    temps.push(t, kk);
    let z = this.held.zeros!;
    if (step.z) {
      z = this.place.upload(step.z, this.dims);
      temps.push(z);
    }
    return { t, k: kk, z };
  }

  async maskStep(step: StepCall, yt: Float32Array | null): Promise<void> {
    const temps: Tensor[] = [];
    try {
      let y = this.held.y!;
      if (yt) {
        y = this.place.upload(yt, this.dims);
        temps.push(y);
      }
      const out = await this.mask.run({ x_t: this.held.x!, y_t: y, ...this.stepFeeds(step, temps), ...this.clipFeed('clipMask') }, step.t);
      this.hold('x', out.x_prev);
      this.hold('x0', out.x0);
      this.hold('c', out.c);
    } finally {
      for (const t of temps) t.dispose();
    }
    await this.settle();
  }

  async imageStep(step: StepCall): Promise<void> {
    const c = this.held.condition ?? this.held.c;
    if (!c) throw new Error('imageStep needs a condition: run maskStep first or start with one');
    const temps: Tensor[] = [];
    try {
      const out = await this.image.run({ y_t: this.held.y!, c, ...this.stepFeeds(step, temps), ...this.clipFeed('clipImage') }, step.t);
      this.hold('y', out.y_prev);
      this.hold('y0', out.y0);
    } finally {
      for (const t of temps) t.dispose();
    }
    await this.settle();
  }

  async read(names: readonly EstimateName[]): Promise<Estimates> {
    const n = this.dims[2] * this.dims[3];
    const arrays = await Promise.all(
      names.map(async (name) => {
        const t = this.held[name];
        if (!t) throw new Error(`no ${name} to read: its model has not run in this step`);
        const onCpu = t.location === 'cpu';
        // A GPU tensor downloads into a fresh array and frees its buffer (release = true); a CPU
        // tensor hands out its own array, so copy that.
        const data = await t.getData(true);
        if (!(data instanceof Float32Array) || data.length !== n) {
          throw new EngineError('model', `the ${name} output is ${data?.length} values of type ${t.type}, expected float32 [${this.dims}]`);
        }
        delete this.held[name];
        t.dispose();
        return [name, onCpu ? data.slice() : data] as const;
      }),
    );
    return Object.fromEntries(arrays);
  }

  async finish(): Promise<void> {
    for (const key of Object.keys(this.held) as Held[]) this.hold(key, undefined);
    // a cancelled run leaves up to two runs on the device: let them end before the next run starts
    this.previousDone = null;
    await this.place.workDone().catch(() => undefined);
  }
}

/** Whether B(·) settings are the ones baked into the kit's step graphs (undefined = core's defaults). */
export function graphsMatchBinarize(b: BinarizeOptions | undefined): boolean {
  const kernel = b?.kernel ?? STEP_GRAPH_BINARIZE.kernel;
  const [w0, w1] = b?.weights ?? STEP_GRAPH_BINARIZE.weights;
  return kernel === STEP_GRAPH_BINARIZE.kernel && w0 === STEP_GRAPH_BINARIZE.weights[0] && w1 === STEP_GRAPH_BINARIZE.weights[1];
}

/** The graphs of the chains a run clips that have no clip input (exported before the option). */
function graphsThatCannotClip(sessions: { maskStep: StepRunner; imageStep: StepRunner }, clip: ClipMode): StepRunner[] {
  return [sessions.maskStep, sessions.imageStep].filter((s) => !s.takesClip && clipsChain(clip, s.role === 'maskStep' ? 'mask' : 'image'));
}

/**
 * The step graphs as core's executor factory, one executor (and one set of held tensors) per run.
 * A run whose clip the graphs cannot do goes to `plain` (core's CPU executor over the plain U-Nets),
 * or is refused without it.
 */
export function stepGraphExecutors(
  ort: OrtModule,
  sessions: { maskStep: StepRunner; imageStep: StepRunner },
  place: TensorPlace,
  [height, width]: [number, number],
  plain?: StepExecutorFactory,
): StepExecutorFactory {
  return {
    create: (run) => {
      if (run.height !== height || run.width !== width) {
        throw new EngineError('input', `the step graphs are ${height}×${width}, the run asks for ${run.height}×${run.width}`);
      }
      // step graphs are format 1's (contracts.md §1b): one image channel, no attribute input
      if ((run.channels ?? 1) !== 1 || run.conditioning) throw new EngineError('input', 'the step graphs run pixel-space models without attributes only');
      const cannot = graphsThatCannotClip(sessions, run.clip);
      if (cannot.length > 0) {
        const why = `${cannot.map((s) => s.spec.file).join(' and ')} ${cannot.length > 1 ? 'have' : 'has'} no clip input (exported before the option)`;
        if (!plain) throw new EngineError('input', `clip ${run.clip}: ${why}; run it on the plain U-Nets`);
        console.info(`[engine] clip ${run.clip}: ${why}; this run uses the plain U-Nets`);
        return plain.create(run);
      }
      if (!graphsMatchBinarize(run.binarize)) {
        throw new EngineError(
          'input',
          `the step graphs compute B(·) with kernel ${STEP_GRAPH_BINARIZE.kernel} and weights [${STEP_GRAPH_BINARIZE.weights}], the run asks for ${JSON.stringify(run.binarize)}`,
        );
      }
      return new GraphStepExecutor(ort, sessions.maskStep, sessions.imageStep, place, height, width, run.clip);
    },
  };
}
