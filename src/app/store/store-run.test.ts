import { describe, expect, it } from 'vitest';
import type { ModelInfo, StudioError } from '../../worker/api';
import { selectShownIndex } from './store-run';
import { info, setup } from './store-test-kit';

describe('studio store: run and timeline', () => {
  it('appends streamed frames, follows the newest, then scrubs', async () => {
    const { store, step, calls } = setup();
    await store.getState().load();
    const run = store.getState().generate();
    expect(store.getState().phase).toBe('running');
    await step();
    await step();
    expect(store.getState().frames.map((f) => f.index)).toEqual([0, 1]);
    expect(selectShownIndex(store.getState())).toBe(1);
    await step();
    await step();
    await run;
    expect(calls[0]).toEqual({ seed: 5, steps: 3, clip: 'none', previews: true });
    const s = store.getState();
    expect(s.phase).toBe('ready');
    expect(s.result?.steps).toBe(3);
    expect(s.frames).toHaveLength(3);
    s.setCursor(0);
    expect(selectShownIndex(store.getState())).toBe(0);
    store.getState().setCursor(99);
    expect(selectShownIndex(store.getState())).toBe(2);
  });

  it('cancels, keeps the frames that arrived, and can generate again', async () => {
    const { store, step } = setup();
    await store.getState().load();
    const run = store.getState().generate();
    await step();
    store.getState().cancel();
    expect(store.getState().phase).toBe('cancelling');
    await run;
    const s = store.getState();
    expect(s.phase).toBe('ready');
    expect(s.error).toBeNull();
    expect(s.notice).toBe('Cancelled after 1 of 3 steps.');
    expect(s.frames).toHaveLength(1);
    const again = store.getState().generate();
    for (let i = 0; i < 4; i++) await step();
    await again;
    expect(store.getState().result?.steps).toBe(3);
    expect(store.getState().notice).toBeNull();
  });

  it('rejects bad inputs with a readable error and does not run', async () => {
    const { store, calls } = setup();
    await store.getState().load();
    store.getState().setStepsText('0');
    await store.getState().generate();
    expect(store.getState().error).toMatch(/Steps must be a whole number from 1 to 1024/);
    store.getState().setStepsText('4');
    store.getState().setSeedText('abc');
    await store.getState().generate();
    expect(store.getState().error).toMatch(/Seed must be/);
    expect(calls).toHaveLength(0);
  });

  it('clip: the URL’s, else the model’s default; sent with every run; another model brings its own; fixed while a run goes', async () => {
    const { store, worker, step, calls, batchCalls } = setup('?seed=5&steps=1&clip=both');
    expect(store.getState().clip).toBe('both');
    await store.getState().load();
    expect(store.getState().clip).toBe('both'); // the URL's, not the model's none
    let run = store.getState().generate();
    store.getState().setClip('image'); // ignored: a run goes
    await step();
    await run;
    expect(calls.at(-1)).toEqual({ seed: 5, steps: 1, clip: 'both', previews: true });
    expect(store.getState().result?.clip).toBe('both');
    store.getState().setClip('image');
    store.getState().setBatch({ startText: '3', sizeText: '1' });
    run = store.getState().generateBatch();
    await step();
    await run;
    expect(batchCalls.at(-1)).toEqual({ startSeed: 3, count: 1, steps: 1, clip: 'image' });
    expect(store.getState().batch.pairs.map((p) => p.clip)).toEqual(['image']);
    // a gallery pair reopens with its own clip
    store.getState().setClip('none');
    run = store.getState().openBatchPair(0);
    expect(store.getState().clip).toBe('image');
    await step();
    await run;
    expect(calls.at(-1)).toMatchObject({ seed: 3, clip: 'image' });
    worker.load = async () => ({ ...info, name: 'other', defaultClip: 'image' });
    expect(await store.getState().openModel({ cachedModelId: 'other-000000000000' }, 'the cached model other')).toBe(true);
    expect(store.getState().clip).toBe('image');

    const plain = setup('?seed=5');
    expect(plain.store.getState().clip).toBeNull();
    plain.worker.load = async () => ({ ...info, defaultClip: 'image' });
    await plain.store.getState().load();
    expect(plain.store.getState().clip).toBe('image');
  });

  it('shows the final pair as the one frame of a run without previews', async () => {
    const { store, step, calls } = setup('?seed=5&previews=off');
    await store.getState().load();
    const run = store.getState().generate();
    for (let i = 0; i < 4; i++) await step();
    await run;
    expect(calls[0]?.previews).toBe(false);
    // The fake streams anyway; the store shows only the final frame.
    expect(store.getState().frames).toHaveLength(1);
    expect(store.getState().frames[0]?.index).toBe(2);
  });

  it('plays the timeline from the start to the end', async () => {
    const { store, step } = setup();
    await store.getState().load();
    const run = store.getState().generate();
    for (let i = 0; i < 4; i++) await step();
    await run;
    store.getState().togglePlay();
    expect(store.getState().cursor).toBe(0);
    store.getState().tick();
    store.getState().tick();
    expect(store.getState().cursor).toBe(2);
    store.getState().tick();
    expect(store.getState().playing).toBe(false);
  });
});

describe('studio store: faults', () => {
  it('a run that ends because the GPU device was lost shows the message and the model as the worker now has it (WASM)', async () => {
    const { store, worker } = setup();
    await store.getState().load();
    const wasm: ModelInfo = { ...info, backend: 'wasm', backendNote: 'the GPU device was lost (destroyed)' };
    worker.generate = async () => {
      throw {
        kind: 'backend',
        message: 'The GPU device was lost during the run (destroyed); the model was reopened on WASM. Press Generate to run again.',
        model: wasm,
      };
    };
    worker.toError = (e) => e as StudioError;
    store.setState({ model: { ...info, backend: 'webgpu', backendNote: 'GPU-resident steps' } });
    await store.getState().generate();
    expect(store.getState().error).toBe(
      'Generation failed: The GPU device was lost during the run (destroyed); the model was reopened on WASM. Press Generate to run again.',
    );
    expect(store.getState().model?.backend).toBe('wasm');
    expect(store.getState().model?.backendNote).toBe('the GPU device was lost (destroyed)');
    expect(store.getState().phase).toBe('ready');
  });
});
