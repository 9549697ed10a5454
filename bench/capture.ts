// The step graphs with ORT's graph capture (`enableGraphCapture`, WebGPU only): ORT records a run's
// GPU commands once and then replays them, skipping the per-kernel work on the CPU (shape checks,
// bind groups, dispatch encoding in WASM) that dominates a step at small sizes. What it asks:
// every input and output a GPU buffer of fixed shape, and the same buffers on every run (ORT's
// glue binds them on the first run and never again: `ioBindingState && !inputOutputBound` in
// ort.webgpu.mjs's run), and every node on the WebGPU provider.
//
// The engine's executor (engine/steps.ts) hands each run fresh tensors (the previous run's outputs,
// per-step uploads, t and k as CPU tensors). So a CapturedStepSession keeps fixed buffers for its
// inputs and outputs, copies the run's feeds into them (GPU to GPU, or writeBuffer for t, k and
// clip) and the fixed outputs into fresh buffers after the replay: copies of H×W floats that cost
// microseconds on a real GPU. That adapter is the one engine-side change capture needs, and it
// lives here, in the benchmark only: the studio does not capture (not measured on a real GPU yet).
//
// One ORT-web 1.30 defect has to be worked around: its glue imports a user's GPUBuffer into the
// WASM side for each run and releases it at the run's end (webgpuRegisterBuffer/Unregister,
// reference-counted on the buffer object under a private symbol), while graph capture keeps the
// first run's binding, whose handles are then dangling: the capturing run finds its inputs only
// when the allocator happens to hand the same handles out again (the tiny pair did; the paper
// preset at 64² failed with "Cannot set properties of undefined (setting
// 'Symbol(gpuBufferMetadata)')", and with the provider not capturing, createBindGroup failed).
// pinRegistration holds one more reference on each fixed input buffer, so its handle lives as
// long as the session: learnBufferRegistry finds the symbol on a buffer ORT registered before.
import type * as Ort from 'onnxruntime-web';
import { errorMessage } from '../src/core/errors';
import { type ModelFileSpec, STEP_GRAPH_IO, type StepGraphRole, stepGraphShape, takesClip } from '../src/core/manifest';
import { EngineError } from '../src/engine/errors';
import type { OpenedStepSession, StepSessionOpener } from '../src/engine/pair';
import { type ModelBytes, type OrtModule, openCheckedSession, type RunQueue } from '../src/engine/unet';
import { type GpuBufferLike, type GpuDeviceLike, ortDevice, STORAGE_COPY, stepGraphSessionOptions } from '../src/engine/webgpu';

type Tensor = Ort.Tensor;

interface GpuBuffer extends GpuBufferLike {
  mapAsync(mode: number): Promise<void>;
  getMappedRange(): ArrayBuffer;
  unmap(): void;
}
interface GpuDevice extends GpuDeviceLike {
  createBuffer(descriptor: { size: number; usage: number }): GpuBuffer;
  createCommandEncoder(): { copyBufferToBuffer(src: GpuBuffer, srcOffset: number, dst: GpuBuffer, dstOffset: number, size: number): void; finish(): unknown };
  queue: GpuDeviceLike['queue'] & { submit(buffers: unknown[]): void };
}
const MAP_READ = 0x0001;
const COPY_DST = 0x0008;
const MAP_MODE_READ = 0x0001;

/** The private symbol under which ORT's glue keeps [handle, references] on a GPUBuffer it imported. */
let registryKey: symbol | null = null;

/** Learns that symbol from a buffer ORT registered (any GPU output of an ordinary WebGPU run). */
export function learnBufferRegistry(buffer: unknown): void {
  if (registryKey || typeof buffer !== 'object' || buffer === null) return;
  registryKey = Object.getOwnPropertySymbols(buffer).find((s) => s.description === 'gpuBufferMetadata') ?? null;
}

/** One more reference on `buffer`'s registration, from its first one on: never released before the buffer is. */
function pinRegistration(buffer: object): boolean {
  if (!registryKey) return false;
  let entry: [number, number] | undefined;
  Object.defineProperty(buffer, registryKey, {
    configurable: true,
    get: () => entry,
    set: (value: [number, number]) => {
      entry = value;
      if (value[1] === 1) value[1] = 2;
    },
  });
  return true;
}

/** One step graph's session with graph capture, run through fixed GPU buffers (see the file's comment). */
export class CapturedStepSession implements OpenedStepSession {
  readonly takesClip: boolean;
  private readonly inputs: Record<string, { buffer: GpuBuffer; tensor: Tensor; bytes: number }> = {};
  private readonly outputs: Record<string, { bytes: number; dims: number[] }> = {};
  /** completed runs: the first is ORT's ordinary run, the second is captured, the rest replay it */
  runs = 0;
  /** whether the fixed inputs' registrations are pinned (see the file's comment); else capture works by luck */
  readonly pinned: boolean;

  private constructor(
    private readonly ort: OrtModule,
    private readonly session: Ort.InferenceSession,
    private readonly device: GpuDevice,
    readonly role: StepGraphRole,
    readonly spec: ModelFileSpec,
    resolution: [number, number],
    private readonly queue: RunQueue,
  ) {
    this.takesClip = takesClip(spec);
    for (const { name } of spec.inputs) this.inputs[name] = this.fixed(stepGraphShape(name, resolution));
    this.pinned = Object.values(this.inputs).every((i) => pinRegistration(i.buffer));
    for (const name of STEP_GRAPH_IO[role].outputs) {
      const dims = stepGraphShape(name, resolution);
      this.outputs[name] = { bytes: 4 * dims.reduce((a, b) => a * b, 1), dims };
    }
  }

  /** Opens the graph with `enableGraphCapture` (on ORT's WebGPU device, which exists once a WebGPU session has been made). */
  static async create(
    ort: typeof Ort,
    role: StepGraphRole,
    spec: ModelFileSpec,
    bytes: ModelBytes,
    resolution: [number, number],
    queue: RunQueue,
  ): Promise<CapturedStepSession> {
    // the provider as an object: ORT's glue passes enableGraphCapture to the WebGPU provider only then
    // (with executionProviders: ['webgpu'] the provider never captures, and the run fails in createBindGroup)
    const options = { ...stepGraphSessionOptions(), executionProviders: [{ name: 'webgpu' }], enableGraphCapture: true };
    const session = await openCheckedSession(ort, role, spec, bytes, options);
    const device = (await ortDevice(ort)) as GpuDevice | undefined;
    if (!device) throw new Error('ONNX Runtime exposes no WebGPU device');
    return new CapturedStepSession(ort, session, device, role, spec, resolution, queue);
  }

  private fixed(dims: readonly number[]): { buffer: GpuBuffer; tensor: Tensor; bytes: number } {
    const bytes = 4 * dims.reduce((a, b) => a * b, 1);
    const buffer = this.device.createBuffer({ size: Math.ceil(bytes / 16) * 16, usage: STORAGE_COPY });
    const tensor = this.ort.Tensor.fromGpuBuffer(buffer as unknown as Ort.Tensor.GpuBufferType, { dataType: 'float32', dims });
    return { buffer, tensor, bytes };
  }

  /** A fresh buffer holding a copy of an output, as a tensor the engine may hold, read and dispose. */
  private fresh(encoder: ReturnType<GpuDevice['createCommandEncoder']>, source: Tensor, out: CapturedStepSession['outputs'][string]): Tensor {
    const buffer = this.device.createBuffer({ size: Math.ceil(out.bytes / 16) * 16, usage: STORAGE_COPY });
    encoder.copyBufferToBuffer(source.gpuBuffer as unknown as GpuBuffer, 0, buffer, 0, out.bytes);
    return this.ort.Tensor.fromGpuBuffer(buffer as unknown as Ort.Tensor.GpuBufferType, {
      dataType: 'float32',
      dims: out.dims,
      download: () => this.download(buffer, out.bytes),
      dispose: () => buffer.destroy(),
    }) as Tensor;
  }

  private async download(buffer: GpuBuffer, bytes: number): Promise<Float32Array<ArrayBuffer>> {
    const staging = this.device.createBuffer({ size: Math.ceil(bytes / 16) * 16, usage: MAP_READ | COPY_DST });
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, bytes);
    this.device.queue.submit([encoder.finish()]);
    await staging.mapAsync(MAP_MODE_READ);
    const data = new Float32Array(staging.getMappedRange().slice(0, bytes));
    staging.unmap();
    staging.destroy();
    return data;
  }

  run(feeds: Record<string, Tensor>, t: number): Promise<Record<string, Tensor>> {
    return this.queue.run(async () => {
      const encoder = this.device.createCommandEncoder();
      for (const [name, fixed] of Object.entries(this.inputs)) {
        const feed = feeds[name];
        if (!feed) throw new EngineError('input', `${this.spec.file}: no ${name} fed`);
        if (feed.location === 'gpu-buffer') encoder.copyBufferToBuffer(feed.gpuBuffer as unknown as GpuBuffer, 0, fixed.buffer, 0, fixed.bytes);
        else this.device.queue.writeBuffer(fixed.buffer, 0, feed.data as Float32Array);
      }
      this.device.queue.submit([encoder.finish()]);
      let result: Ort.InferenceSession.OnnxValueMapType;
      try {
        result = await this.session.run(Object.fromEntries(Object.entries(this.inputs).map(([name, i]) => [name, i.tensor])));
      } catch (e) {
        throw new EngineError('backend', `${this.spec.file} (${this.role} model, graph capture) failed to run at t=${t}: ${errorMessage(e)}`, { cause: e });
      }
      this.runs++;
      const copies = this.device.createCommandEncoder();
      const out = Object.fromEntries(Object.entries(this.outputs).map(([name, o]) => [name, this.fresh(copies, result[name] as Tensor, o)]));
      this.device.queue.submit([copies.finish()]);
      // ORT's own output tensors (the graph's buffers stay bound to the session): copied, let go
      for (const v of Object.values(result)) (v as Tensor).dispose();
      return out;
    });
  }

  /** Two runs on zeros (k = a valid step's shape): ORT's ordinary first run, then the captured one. */
  async warmUp(): Promise<void> {
    for (let i = 0; i < 2; i++) {
      const feeds: Record<string, Tensor> = {};
      for (const { name } of this.spec.inputs) {
        const n = this.inputs[name].bytes / 4;
        feeds[name] = new this.ort.Tensor('float32', name === 'k' ? Float32Array.of(1, 0, 1, 0, 0) : new Float32Array(n), name === 'k' ? [5] : [n]);
      }
      const out = await this.run(feeds, 0);
      for (const v of Object.values(out)) v.dispose();
    }
  }

  async release(): Promise<void> {
    await this.queue.run(() => this.session.release());
    for (const f of Object.values(this.inputs)) f.buffer.destroy();
  }
}

/**
 * createStepPair's `open` for graph capture: each step graph as a CapturedStepSession (its session
 * options are the studio's step-graph options plus capture, so the ones createStepPair passes are not used).
 */
export function capturedSessions(ort: typeof Ort, resolution: [number, number]): StepSessionOpener {
  return (_ort, role, spec, bytes, _options, queue) => CapturedStepSession.create(ort, role, spec, bytes, resolution, queue);
}
