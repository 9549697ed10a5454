import { describe, expect, it } from 'vitest';
import { setup } from './store-test-kit';

describe('studio store: batch', () => {
  async function ready(search = '?seed=5&steps=2') {
    const s = setup(search);
    await s.store.getState().load();
    return s;
  }
  const untilPairs = async (store: ReturnType<typeof setup>['store'], step: () => Promise<void>, n: number) => {
    while (store.getState().batch.pairs.length < n) await step();
  };

  it('runs start seed … start + size − 1 with the controls’ steps, with progress; the gallery fills', async () => {
    const { store, step, batchCalls } = await ready();
    store.getState().setBatch({ startText: '10', sizeText: '3' });
    const run = store.getState().generateBatch();
    expect(store.getState().phase).toBe('running');
    expect(batchCalls[0]).toEqual({ startSeed: 10, count: 3, steps: 2, clip: 'none' });
    await step();
    expect(store.getState().batch.progress).toMatchObject({ index: 0, seed: 10, step: 1, steps: 2 });
    await untilPairs(store, step, 3);
    await run;
    const { batch, phase } = store.getState();
    expect(phase).toBe('ready');
    expect(batch.progress).toBeNull();
    expect(batch.pairs.map((p) => p.seed)).toEqual([10, 11, 12]);
    expect(batch.note).toMatch(/^Done: 3 pairs in/);
  });

  it('Cancel stops the batch and keeps the finished pairs', async () => {
    const { store, step } = await ready();
    store.getState().setBatch({ startText: '0', sizeText: '5' });
    const run = store.getState().generateBatch();
    await untilPairs(store, step, 2);
    await step();
    store.getState().cancel();
    await run;
    const { batch, phase, error } = store.getState();
    expect(phase).toBe('ready');
    expect(error).toBeNull();
    expect(batch.pairs.map((p) => p.seed)).toEqual([0, 1]);
    expect(batch.note).toBe('Cancelled after 2 of 5 pairs; the 2 finished pairs are kept.');
  });

  it('refuses a size of 0 or over the limit, and a batch while a run goes, with a message', async () => {
    const { store, step, batchCalls } = await ready();
    store.getState().setBatch({ sizeText: '0' });
    await store.getState().generateBatch();
    expect(store.getState().error).toMatch(/^Batch size must be a whole number from 1 to 1000/);
    store.getState().setBatch({ sizeText: '100000' });
    await store.getState().generateBatch();
    expect(store.getState().error).toMatch(/^Batch size must/);
    store.getState().setBatch({ sizeText: '2' });
    const single = store.getState().generate();
    await store.getState().generateBatch();
    expect(store.getState().error).toBe('A generation is running: wait for it or cancel it before starting a batch.');
    expect(batchCalls).toEqual([]);
    for (let i = 0; i < 2; i++) await step();
    await single;
  });

  it('opening a gallery pair runs its seed again in the viewer and checks it is the batch’s pair', async () => {
    const { store, step, calls } = await ready('?seed=99&steps=2');
    store.getState().setBatch({ startText: '4', sizeText: '2' });
    const run = store.getState().generateBatch();
    await untilPairs(store, step, 2);
    await run;
    const open = store.getState().openBatchPair(1);
    expect(store.getState().seedText).toBe('5');
    for (let i = 0; i < 2; i++) await step();
    await open;
    expect(calls.at(-1)).toEqual({ seed: 5, steps: 2, eta: 0, clip: 'none', previews: true });
    const s = store.getState();
    expect(s.frames).toHaveLength(2);
    expect(s.result?.seed).toBe(5);
    expect(s.batch.opened).toEqual({ index: 1, identical: true, text: "Seed 5: the re-run is identical to the batch's pair." });
  });

  it('a new model clears the gallery (its export would name the new model’s files)', async () => {
    const { store, step } = await ready();
    store.getState().setBatch({ sizeText: '1' });
    const run = store.getState().generateBatch();
    await untilPairs(store, step, 1);
    await run;
    expect(await store.getState().openModel({ modelUrl: '/models/other/' }, 'the other model')).toBe(true);
    expect(store.getState().batch.pairs).toEqual([]);
  });
});
