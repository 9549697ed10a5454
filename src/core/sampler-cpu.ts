// core's CPU step executor: the plain U-Nets (a PairDenoiser) give ε, and core's own DDIM update
// (ddim.ts) and B(·) (binarize.ts) run on Float32Arrays. The reference implementation of a step;
// the path of the CLI, of Node and of the WASM backend, and of every run whose `clip` the step
// graphs cannot do.

import { type Conditioning, guide } from './attributes';
import { type BinarizeOptions, binarize } from './binarize';
import { type ClipMode, clipEstimate, clipsChain, ddimNext, predictX0 } from './ddim';
import { checkLength, type EstimateName, type Estimates, type PairDenoiser, type StepCall, type StepExecutor, type StepExecutorFactory } from './executor';
import { checkFinite } from './finite';

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/**
 * ε of one U-Net for this run: one call on `a`, or with classifier-free guidance two (on a and a∅)
 * combined as e0 + w·(e1 − e0) (contracts.md §6b); models without attributes get no `a`.
 */
async function predict(
  run: (input: Float32Array, t: number, a?: Float32Array) => Promise<Float32Array>,
  input: Float32Array,
  t: number,
  conditioning: Conditioning | undefined,
): Promise<Float32Array> {
  if (!conditioning) return run(input, t);
  const e1 = await run(input, t, conditioning.a);
  if (!conditioning.unconditional) return e1;
  const e0 = await run(input, t, conditioning.unconditional);
  return guide(e0, e1, conditioning.guidance);
}

/** One run's state as plain arrays. Every x̂₀, ŷ₀ and c is a fresh array that is never written again. */
class CpuStepExecutor implements StepExecutor {
  private readonly n: number;
  private x: Float32Array = new Float32Array(0);
  private y: Float32Array = new Float32Array(0);
  private condition: Float32Array | null = null;
  private estimates: Estimates = {};

  constructor(
    private readonly denoiser: PairDenoiser,
    private readonly H: number,
    private readonly W: number,
    private readonly binarizeOptions: BinarizeOptions | undefined,
    private readonly clip: ClipMode,
    /** C, the image chain's channels */
    private readonly channels: number,
    private readonly conditioning: Conditioning | undefined,
  ) {
    this.n = H * W;
  }

  async start(init: { xT: Float32Array; yT: Float32Array; condition: Float32Array | null }): Promise<void> {
    this.x = init.xT.slice();
    this.y = init.yT.slice();
    this.condition = init.condition;
  }

  async maskStep({ index, t, k, z }: StepCall, yt: Float32Array | null): Promise<void> {
    const eps = await predict((...a) => this.denoiser.predictMaskNoise(...a), concat(this.x, yt ?? this.y), t, this.conditioning);
    checkLength('ε_x', eps, this.n, this.H, this.W);
    checkFinite(eps, { model: 'mask', quantity: 'ε', index, t });
    const x0 = predictX0(this.x, eps, k);
    if (clipsChain(this.clip, 'mask')) clipEstimate(eps, x0, k);
    this.x = ddimNext(x0, eps, z, k);
    this.estimates.x0 = x0;
    this.estimates.c = binarize(x0, this.H, this.W, this.binarizeOptions);
  }

  async imageStep({ index, t, k, z }: StepCall): Promise<void> {
    const c = this.condition ?? this.estimates.c;
    if (!c) throw new Error('imageStep needs a condition: run maskStep first or start with one');
    const eps = await predict((...a) => this.denoiser.predictImageNoise(...a), concat(this.y, c), t, this.conditioning);
    checkLength('ε_y', eps, this.n, this.H, this.W, this.channels);
    checkFinite(eps, { model: 'image', quantity: 'ε', index, t });
    const y0 = predictX0(this.y, eps, k);
    if (clipsChain(this.clip, 'image')) clipEstimate(eps, y0, k);
    this.y = ddimNext(y0, eps, z, k);
    this.estimates.y0 = y0;
  }

  async read(names: readonly EstimateName[]): Promise<Estimates> {
    const out: Estimates = {};
    for (const name of names) {
      const a = this.estimates[name];
      if (!a) throw new Error(`no ${name} to read: its model has not run in this step`);
      out[name] = a;
      delete this.estimates[name]; // handed over: the caller owns it now
    }
    return out;
  }

  async finish(): Promise<void> {
    this.estimates = {};
  }
}

/** core's CPU executor over the plain U-Nets (contracts.md §1). */
export function cpuStepExecutors(denoiser: PairDenoiser): StepExecutorFactory {
  return {
    create: ({ height, width, binarize: b, clip, channels = 1, conditioning }) => new CpuStepExecutor(denoiser, height, width, b, clip, channels, conditioning),
  };
}
