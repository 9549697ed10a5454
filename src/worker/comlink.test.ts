// The real comlink boundary over a MessageChannel: typed errors keep their kind, frames arrive
// transferred (the worker side's buffers are detached after sending).
import * as Comlink from 'comlink';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuStepExecutors } from '../core/sampler-cpu';
import { linearSchedule } from '../core/schedule';
import { fakeManifest } from '../testing/fake-manifest';
import type { StepFrame, StudioWorkerApi } from './api';
import { toStudioError } from './errors';
import { Studio } from './studio';

const H = 4;
const W = 4;
const manifest = fakeManifest(H, W);

const sent: Float32Array[] = [];
const { port1, port2 } = new MessageChannel();
const studio = new Studio(
  async () => ({
    manifest,
    schedule: linearSchedule(manifest.schedule),
    executors: cpuStepExecutors({
      predictMaskNoise: async (xy) => xy.slice(0, H * W),
      predictImageNoise: async (yc) => yc.slice(0, H * W),
    }),
    backend: 'wasm',
    backendNote: null,
    release: async () => undefined,
  }),
  (value, transferables) => {
    const v = value as unknown as { x0?: Float32Array };
    if (v.x0) sent.push(v.x0);
    return Comlink.transfer(value, transferables);
  },
);
Comlink.expose(studio, port1 as unknown as Comlink.Endpoint);
const api = Comlink.wrap<StudioWorkerApi>(port2 as unknown as Comlink.Endpoint);

afterAll(() => {
  port1.close();
  port2.close();
});

describe('across comlink', () => {
  it('frames arrive transferred, the result after them', async () => {
    await api.load({ modelUrl: '/m/' });
    const frames: StepFrame[] = [];
    const r = await api.generate(
      { seed: 1, steps: 4 },
      Comlink.proxy((f: StepFrame) => {
        frames.push(f);
      }),
    );
    expect(frames.length).toBe(4);
    expect(frames[0].x0).toBeInstanceOf(Float32Array);
    expect(frames[0].x0.length).toBe(H * W);
    expect(sent.every((a) => a.byteLength === 0)).toBe(true); // detached on the sending side
    expect(r.image.length).toBe(H * W);
    expect(r.mask).toBeInstanceOf(Uint8Array);
  });

  it('a StudioError keeps its kind', async () => {
    try {
      await api.generate(
        { seed: -5, steps: 4 },
        Comlink.proxy(() => undefined),
      );
      expect.unreachable();
    } catch (e) {
      expect(toStudioError(e)).toMatchObject({ kind: 'input' });
    }
  });
});
