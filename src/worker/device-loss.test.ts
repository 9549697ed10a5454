import { describe, expect, it } from 'vitest';
import { CancelledError } from '../core/sampler';
import type { ModelInfo, StudioError } from './api';
import { DeviceLossWatch, DeviceLostError, type DeviceModel } from './device-loss';

interface Fake extends DeviceModel<Fake> {
  backend: 'webgpu' | 'wasm';
}

/** A studio stand-in holding one model; a WebGPU model whose device can be lost, reopening as `reopen` gives. */
function setup(reopen: (() => Promise<Fake>) | null = async () => ({ manifest: { name: 'm' }, backend: 'wasm', release: async () => undefined })) {
  const events: string[] = [];
  let lose: (reason: string) => void = () => undefined;
  const gpu: Fake = {
    manifest: { name: 'm' },
    backend: 'webgpu',
    lost: new Promise<string>((r) => (lose = r)),
    ...(reopen ? { reopenOnWasm: reopen } : {}),
    release: async () => void events.push('release webgpu'),
  };
  let held: Fake | null = null;
  const watch = new DeviceLossWatch<Fake>({
    current: () => held,
    replace: (model) => {
      held = model;
      events.push(`replace ${model?.backend ?? 'none'}`);
    },
    stopRun: () => void events.push('stop run'),
    describe: (model) => ({ name: model.manifest.name, backend: model.backend }) as ModelInfo,
  });
  const hold = (model: Fake) => {
    held = model;
    watch.watch(model);
  };
  return { watch, gpu, hold, held: () => held, events, lose: (reason: string) => lose(reason) };
}

const settle = () => new Promise((r) => setTimeout(r, 0));
const never = () => new Promise<string>(() => undefined);

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

describe('DeviceLossWatch', () => {
  it('the held model’s device lost: the run stops, steps waiting on the device end, the model is reopened on WASM, the next run is told once', async () => {
    const { watch, gpu, hold, held, events, lose } = setup();
    hold(gpu);
    expect(await watch.unlessLost(async () => 'step')).toBe('step');
    const waiting = watch.unlessLost(never);
    lose('destroyed');
    const err = await rejection(waiting);
    expect(err).toBeInstanceOf(DeviceLostError);
    expect((err as DeviceLostError).reason).toBe('destroyed');
    expect(watch.lossPending).toBe(true);
    await settle();
    expect(events).toEqual(['stop run', 'replace wasm', 'release webgpu']);
    expect(held()?.backend).toBe('wasm');
    expect(await rejection(watch.afterRecovery())).toEqual({
      kind: 'backend',
      message: 'The GPU device was lost (destroyed); the model was reopened on WASM. Press Generate to run again.',
      model: { name: 'm', backend: 'wasm' },
    });
    expect(watch.lossPending).toBe(false);
    await watch.afterRecovery(); // told once
  });

  it('a run that failed while the device went: its error becomes the lost-device message, after the reopening', async () => {
    const { watch, gpu, hold, lose } = setup();
    hold(gpu);
    const error = watch.runError(new Error('mapAsync failed'), gpu);
    setTimeout(() => lose('destroyed'), 10); // the loss is reported after the failure
    expect(await error).toMatchObject({
      kind: 'backend',
      message: 'The GPU device was lost during the run (destroyed); the model was reopened on WASM. Press Generate to run again.',
    });
  });

  it('not a loss: a user’s cancel, a model without a device, a failure with the device still there (null: the run’s own error stands)', async () => {
    const { watch, gpu, hold } = setup();
    hold(gpu);
    expect(await watch.runError(new CancelledError(), gpu)).toBeNull();
    const wasm: Fake = { manifest: { name: 'w' }, backend: 'wasm', release: async () => undefined };
    expect(await watch.runError(new Error('boom'), wasm)).toBeNull();
    expect(await watch.runError(new Error('boom'), gpu)).toBeNull(); // after waiting a moment for a loss
  });

  it('reopening on WASM fails: the studio holds no model and the message says to reload', async () => {
    const { watch, gpu, hold, held, lose } = setup(async () => {
      throw new Error('out of memory');
    });
    hold(gpu);
    lose('destroyed');
    await settle();
    expect(held()).toBeNull();
    const err = (await rejection(watch.afterRecovery())) as StudioError;
    expect(err).toEqual({
      kind: 'backend',
      message: 'The GPU device was lost (destroyed); reopening the model on WASM failed (out of memory): reload the page.',
    });
  });

  it('the loss of a model no longer held changes nothing; a new model drops a loss not told yet', async () => {
    const first = setup();
    const other: Fake = { manifest: { name: 'o' }, backend: 'wasm', release: async () => undefined };
    first.hold(first.gpu);
    first.hold(other);
    first.lose('destroyed');
    await settle();
    expect(first.events).toEqual([]);
    expect(first.watch.lossPending).toBe(false);

    const second = setup();
    second.hold(second.gpu);
    second.lose('destroyed');
    await settle();
    expect(second.watch.lossPending).toBe(true);
    second.hold(other);
    expect(second.watch.lossPending).toBe(false);
    await second.watch.afterRecovery();
  });
});
