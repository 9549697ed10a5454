import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL } from '../config';
import { Cancelled, info, setup } from './store-test-kit';

describe('studio store: model', () => {
  it('loads the model and takes the default steps from it', async () => {
    const { store } = setup();
    expect(store.getState().phase).toBe('loading');
    await store.getState().load();
    expect(store.getState().phase).toBe('ready');
    expect(store.getState().stepsText).toBe('3');
    expect(store.getState().seedText).toBe('5');
  });

  it('keeps preset steps from the URL', async () => {
    const { store } = setup('?steps=7');
    await store.getState().load();
    expect(store.getState().stepsText).toBe('7');
  });

  it('shows a load failure as an error naming the model', async () => {
    const { store, worker } = setup('?model=nope');
    worker.load = async () => {
      throw new Error('HTTP 404 for /models/nope/manifest.json');
    };
    await store.getState().load();
    expect(store.getState().phase).toBe('failed');
    expect(store.getState().error).toMatch(/Could not open model "nope": .*404/);
  });

  it('opening another model that fails keeps the current one usable, with an error naming the file', async () => {
    const { store, worker, step } = setup();
    await store.getState().load();
    const load = worker.load;
    worker.load = async (request, onProgress) => {
      onProgress?.({ receivedBytes: 10, totalBytes: 40, cachedBytes: 0, filesDone: 0, files: 1 });
      expect(store.getState().loadProgress).toEqual({ receivedBytes: 10, totalBytes: 40, cachedBytes: 0, filesDone: 0, files: 1 });
      expect(store.getState().phase).toBe('loading');
      expect(request.files).toBeDefined();
      throw new Error('mask.onnx (your file): mask.onnx (mask model) is truncated');
    };
    expect(await store.getState().openModel({ files: { 'mask.onnx': new ArrayBuffer(1) } }, 'the files you chose')).toBe(false);
    const s = store.getState();
    expect(s.phase).toBe('ready');
    expect(s.model?.name).toBe('fake');
    expect(s.loadProgress).toBeNull();
    expect(s.error).toBe(
      'Could not open the files you chose: Error: mask.onnx (your file): mask.onnx (mask model) is truncated — the studio still uses model fake.',
    );
    // and it still generates
    worker.load = load;
    const run = store.getState().generate();
    for (let i = 0; i < 3; i++) await step();
    await run;
    expect(store.getState().result?.steps).toBe(3);
  });

  it('Cancel during a model download: the worker is told, the previous model stays; the first model: the studio says how to get one', async () => {
    const { store, worker } = setup('?seed=5&steps=2');
    await store.getState().load();
    const load = worker.load;
    let cancels = 0;
    worker.cancel = () => void cancels++;
    // a download that ends when the worker is told to cancel (as the real worker does)
    worker.load = () => new Promise((_resolve, reject) => (worker.cancel = () => void (cancels++, reject(new Cancelled('cancelled')))));
    const opening = store.getState().openModel({ modelUrl: '/models/big/' }, 'model "big"');
    expect(store.getState().phase).toBe('loading');
    store.getState().cancel();
    expect(await opening).toBe(false);
    expect(cancels).toBe(1);
    expect(store.getState()).toMatchObject({
      phase: 'ready',
      error: null,
      loadProgress: null,
      notice: 'Stopped opening model "big"; the studio still uses model fake.',
    });
    expect(store.getState().model?.name).toBe('fake');
    // Cancel when nothing loads does not reach the worker
    store.getState().cancel();
    expect(cancels).toBe(1);

    const first = setup('?model=tiny&seed=5&steps=2');
    first.worker.load = () => new Promise((_resolve, reject) => (first.worker.cancel = () => reject(new Cancelled('cancelled'))));
    const loading = first.store.getState().load();
    first.store.getState().cancel();
    await loading;
    expect(first.store.getState()).toMatchObject({ phase: 'failed', model: null });
    expect(first.store.getState().error).toBe('Stopped opening model "tiny". Open a model from the model panel, or reload the page to download it again.');
    first.worker.load = load;
    expect(await first.store.getState().openModel({ modelUrl: '/models/tiny/' }, 'model "tiny"')).toBe(true);
    expect(first.store.getState().phase).toBe('ready');
  });

  it('opening another model replaces the run and takes its default steps; not while a run goes', async () => {
    const { store, worker, step } = setup('?seed=5&steps=2');
    await store.getState().load();
    const run = store.getState().generate();
    await step();
    expect(await store.getState().openModel({ cachedModelId: 'other-000000000000' }, 'the cached model other')).toBe(false);
    expect(store.getState().error).toBe('Cancel the running generation before opening the cached model other.');
    await step();
    await run;
    worker.load = async () => ({ ...info, name: 'other', defaultSteps: 6 });
    expect(await store.getState().openModel({ cachedModelId: 'other-000000000000' }, 'the cached model other')).toBe(true);
    const s = store.getState();
    expect(s.model?.name).toBe('other');
    expect(s.stepsText).toBe('6');
    expect(s.frames).toEqual([]);
    expect(s.result).toBeNull();
    expect(s.notice).toBe('Opened model other.');
  });
});

describe('studio store: faults', () => {
  it('a worker restart mid-run reopens the same model, keeps the frames that arrived and says what happened', async () => {
    const { store, step, worker } = setup();
    const loads: unknown[] = [];
    const load = worker.load;
    worker.load = async (request, onProgress) => {
      loads.push(request);
      return load(request, onProgress);
    };
    await store.getState().load();
    const run = store.getState().generate();
    await step();
    await step();
    expect(store.getState().frames).toHaveLength(2);
    // the supervisor rejects the dead worker's call and reports the restart
    const restarted = store.getState().workerRestarted('it was ended: closed, crashed or out of memory');
    expect(store.getState().phase).toBe('loading');
    await restarted;
    const s = store.getState();
    expect(s.phase).toBe('ready');
    expect(loads).toEqual([
      { modelUrl: `/models/${DEFAULT_MODEL}/`, backend: undefined },
      { modelUrl: `/models/${DEFAULT_MODEL}/`, backend: undefined },
    ]);
    expect(s.error).toBe(
      'The studio worker stopped (it was ended: closed, crashed or out of memory); a new one was started and the model was reopened. What was running stopped; the steps and pairs shown are kept.',
    );
    expect(s.frames).toHaveLength(2);
    // the dead run's late answer is ignored
    await step();
    await step();
    await run;
    expect(store.getState().frames).toHaveLength(2);
    expect(store.getState().phase).toBe('ready');
  });

  it('a custom model from files is reopened from the cache after a restart; one that was not cached falls back to the default model, saying so', async () => {
    for (const cached of [true, false]) {
      const { store, worker } = setup();
      const loads: unknown[] = [];
      worker.load = async (request) => {
        loads.push(request);
        return request.files ? { ...info, name: 'mine', source: { kind: 'custom', id: 'mine-1234', cached, fromCache: false, cacheNote: null } } : info;
      };
      await store.getState().load();
      expect(await store.getState().openModel({ files: { 'manifest.json': new ArrayBuffer(2) } }, 'the files you chose')).toBe(true);
      await store.getState().workerRestarted('it threw: boom');
      expect(loads[2]).toEqual(cached ? { cachedModelId: 'mine-1234', backend: undefined } : { modelUrl: `/models/${DEFAULT_MODEL}/`, backend: undefined });
      if (cached) expect(store.getState().error).not.toMatch(/default model/);
      else expect(store.getState().error).toMatch(/Model mine was not kept in the cache, so the default model was opened\.$/);
    }
  });
});
