// The engine's WebGPU pieces that do not depend on how ORT's WebGPU build was loaded: the sessions'
// options and the tensors in GPU buffers of ORT's own device. engine/web.ts uses them in the
// studio's worker (the build over fetch from the app's origin); bench/dawn.ts in Node, where
// Dawn (the npm package `webgpu`) is the GPU, so the benchmark times the studio's own code.

import type * as OrtWeb from 'onnxruntime-web';
import type { TensorPlace } from './steps';
import type { Backend } from './types';
import type { SessionOptions } from './unet';

export function sessionOptions(backend: Backend): SessionOptions {
  return { executionProviders: [backend === 'webgpu' ? 'webgpu' : 'wasm'], graphOptimizationLevel: 'all' };
}

/** WebGPU sessions of the step graphs: every output (x_prev, x0, c / y_prev, y0) stays in a GPU buffer. */
export function stepGraphSessionOptions(): SessionOptions {
  return { ...sessionOptions('webgpu'), preferredOutputLocation: 'gpu-buffer' };
}

// The few WebGPU types used here (TypeScript's DOM library has none).
export interface GpuBufferLike {
  destroy(): void;
}
export interface GpuDeviceLike {
  lost: Promise<{ reason: string; message: string }>;
  createBuffer(descriptor: { size: number; usage: number }): GpuBufferLike;
  queue: { writeBuffer(buffer: GpuBufferLike, offset: number, data: Float32Array): void; onSubmittedWorkDone(): Promise<void> };
}
// GPUBufferUsage.STORAGE | COPY_SRC | COPY_DST: what ORT needs of an input buffer (and to download it)
export const STORAGE_COPY = 0x80 | 0x04 | 0x08;

/** ORT's WebGPU device (it exists once a WebGPU session has been created), or undefined. */
export async function ortDevice(ort: Pick<typeof OrtWeb, 'env'>): Promise<GpuDeviceLike | undefined> {
  return (await ort.env.webgpu.device) as unknown as GpuDeviceLike | undefined;
}

/**
 * Tensors in GPU buffers of ORT's own device (known once a WebGPU session exists): one
 * writeBuffer per upload; new buffers are zero-filled by WebGPU. Disposing a tensor destroys its buffer.
 */
export async function gpuPlace(ort: Pick<typeof OrtWeb, 'env' | 'Tensor'>): Promise<TensorPlace> {
  const device = await ortDevice(ort);
  if (!device || typeof device.createBuffer !== 'function') throw new Error('ONNX Runtime exposes no WebGPU device');
  const tensor = (dims: readonly number[], data: Float32Array | null) => {
    const bytes = 4 * dims.reduce((a, b) => a * b, 1);
    const buffer = device.createBuffer({ size: Math.ceil(bytes / 16) * 16, usage: STORAGE_COPY });
    if (data) device.queue.writeBuffer(buffer, 0, data);
    return ort.Tensor.fromGpuBuffer(buffer as unknown as OrtWeb.Tensor.GpuBufferType, { dataType: 'float32', dims, dispose: () => buffer.destroy() });
  };
  return {
    location: 'gpu-buffer',
    upload: (data, dims) => tensor(dims, data),
    zeros: (dims) => tensor(dims, null),
    workDone: () => device.queue.onSubmittedWorkDone(),
  };
}
