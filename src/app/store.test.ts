import { describe, expect, it } from 'vitest';
import type { BatchRequest, GenerateRequest, GenerateResult, ModelInfo, StepFrame, StudioError } from '../worker/api';
import type { PixelImage } from '../core/condition';
import { createStudioStore, selectGenerateBlocker, selectShownIndex, type StudioBackend } from './store';
import { DEFAULT_MODEL, parseUrlOptions } from './config';

const H = 2;
const W = 2;
const info: ModelInfo = {
  name: 'fake',
  resolution: [H, W],
  defaultSteps: 3,
  defaultClip: 'none',
  backend: 'wasm',
  backendNote: null,
  card: {},
  binarize: { kernel: 5, weights: [0.75, 0.25] },
  dataset: { name: 'fake', resolution: [H, W], modality: 'ultrasound', files: { mask: { file: 'mask.onnx', sha256: 'ab'.repeat(32) } } },
  documents: [],
};

function frame(index: number, total: number): StepFrame {
  return {
    index,
    total,
    t: 1024 - ((index + 1) * 1024) / total,
    tPrev: index === total - 1 ? -1 : 1024 - ((index + 2) * 1024) / total,
    x0: new Float32Array(H * W).fill(index),
    y0: new Float32Array(H * W).fill(-index),
    elapsedMs: (index + 1) * 10,
  };
}

class Cancelled extends Error {}

/** The fake's pair for a seed: the same every time; odd seeds have an empty mask. */
function pairFor(seed: number, steps: number, mode: GenerateResult['mode'], clip: GenerateResult['clip'] = 'none'): GenerateResult {
  return {
    mode,
    seed,
    steps,
    eta: 0,
    clip,
    width: W,
    height: H,
    mask: Uint8Array.from({ length: H * W }, (_, i) => (seed % 2 === 0 && i === 0 ? 1 : 0)),
    image: new Float32Array(H * W).fill(seed / 100),
    backend: 'wasm',
    totalMs: steps * 10,
    msPerStep: 10,
  };
}

/** A worker stand-in: emits one frame per step on demand, can be cancelled. */
function fakeBackend() {
  let cancelled = false;
  let release: (() => void) | null = null;
  const calls: GenerateRequest[] = [];
  const batchCalls: BatchRequest[] = [];
  const backend: StudioBackend = {
    load: async () => info,
    async generate(req, onFrame) {
      calls.push(req);
      cancelled = false;
      for (let i = 0; i < req.steps; i++) {
        await new Promise<void>((r) => (release = r));
        if (cancelled) throw new Cancelled('cancelled');
        onFrame(frame(i, req.steps));
      }
      const result = pairFor(req.seed, req.steps, req.mode?.kind ?? 'pair', req.clip);
      return result;
    },
    async generateBatch(req, onPair, onProgress) {
      batchCalls.push(req);
      cancelled = false;
      for (let index = 0; index < req.count; index++) {
        const seed = req.startSeed + index;
        for (let step = 0; step < req.steps; step++) {
          await new Promise<void>((r) => (release = r));
          if (cancelled) return { done: index, count: req.count, cancelled: true, totalMs: 1 };
          onProgress({ index, count: req.count, seed, step: step + 1, steps: req.steps, elapsedMs: 10 * (index * req.steps + step + 1) });
        }
        onPair({ ...pairFor(seed, req.steps, req.mode?.kind ?? 'pair', req.clip), index });
      }
      return { done: req.count, count: req.count, cancelled: false, totalMs: 10 * req.count * req.steps };
    },
    cancel() {
      cancelled = true;
      release?.();
    },
    toError(e): StudioError {
      return e instanceof Cancelled ? { kind: 'cancelled', message: 'cancelled' } : { kind: 'internal', message: String(e) };
    },
  };
  const step = async () => {
    release?.();
    await new Promise((r) => setTimeout(r, 0));
  };
  return { backend, step, calls, batchCalls };
}

function setup(search = '?seed=5', decodeImage?: (file: Blob) => Promise<PixelImage>) {
  const fake = fakeBackend();
  const store = createStudioStore({ backend: fake.backend, options: parseUrlOptions(search), scheduleFlush: (f) => f(), decodeImage });
  return { ...fake, store };
}

describe('studio store', () => {
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

  it('shows a load failure as an error naming the model', async () => {
    const { store, backend } = setup('?model=nope');
    backend.load = async () => {
      throw new Error('HTTP 404 for /models/nope/manifest.json');
    };
    await store.getState().load();
    expect(store.getState().phase).toBe('failed');
    expect(store.getState().error).toMatch(/Could not open model "nope": .*404/);
  });

  it('opening another model that fails keeps the current one usable, with an error naming the file', async () => {
    const { store, backend, step } = setup();
    await store.getState().load();
    const load = backend.load;
    backend.load = async (request, onProgress) => {
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
    expect(s.error).toBe('Could not open the files you chose: Error: mask.onnx (your file): mask.onnx (mask model) is truncated — the studio still uses model fake.');
    // and it still generates
    backend.load = load;
    const run = store.getState().generate();
    for (let i = 0; i < 3; i++) await step();
    await run;
    expect(store.getState().result?.steps).toBe(3);
  });

  it('Cancel during a model download: the worker is told, the previous model stays; the first model: the studio says how to get one', async () => {
    const { store, backend } = setup('?seed=5&steps=2');
    await store.getState().load();
    const load = backend.load;
    let cancels = 0;
    backend.cancel = () => void cancels++;
    // a download that ends when the worker is told to cancel (as the real worker does)
    backend.load = () => new Promise((_resolve, reject) => (backend.cancel = () => void (cancels++, reject(new Cancelled('cancelled')))));
    const opening = store.getState().openModel({ modelUrl: '/models/big/' }, 'model "big"');
    expect(store.getState().phase).toBe('loading');
    store.getState().cancel();
    expect(await opening).toBe(false);
    expect(cancels).toBe(1);
    expect(store.getState()).toMatchObject({ phase: 'ready', error: null, loadProgress: null, notice: 'Stopped opening model "big"; the studio still uses model fake.' });
    expect(store.getState().model?.name).toBe('fake');
    // Cancel when nothing loads does not reach the worker
    store.getState().cancel();
    expect(cancels).toBe(1);

    const first = setup('?model=tiny&seed=5&steps=2');
    first.backend.load = () => new Promise((_resolve, reject) => (first.backend.cancel = () => reject(new Cancelled('cancelled'))));
    const loading = first.store.getState().load();
    first.store.getState().cancel();
    await loading;
    expect(first.store.getState()).toMatchObject({ phase: 'failed', model: null });
    expect(first.store.getState().error).toBe('Stopped opening model "tiny". Open a model from the model panel, or reload the page to download it again.');
    first.backend.load = load;
    expect(await first.store.getState().openModel({ modelUrl: '/models/tiny/' }, 'model "tiny"')).toBe(true);
    expect(first.store.getState().phase).toBe('ready');
  });

  it('opening another model replaces the run and takes its default steps; not while a run goes', async () => {
    const { store, backend, step } = setup('?seed=5&steps=2');
    await store.getState().load();
    const run = store.getState().generate();
    await step();
    expect(await store.getState().openModel({ cachedModelId: 'other-000000000000' }, 'the cached model other')).toBe(false);
    expect(store.getState().error).toBe('Cancel the running generation before opening the cached model other.');
    await step();
    await run;
    backend.load = async () => ({ ...info, name: 'other', defaultSteps: 6 });
    expect(await store.getState().openModel({ cachedModelId: 'other-000000000000' }, 'the cached model other')).toBe(true);
    const s = store.getState();
    expect(s.model?.name).toBe('other');
    expect(s.stepsText).toBe('6');
    expect(s.frames).toEqual([]);
    expect(s.result).toBeNull();
    expect(s.notice).toBe('Opened model other.');
  });

  it('clip: the URL’s, else the model’s default; sent with every run; another model brings its own; fixed while a run goes', async () => {
    const { store, backend, step, calls, batchCalls } = setup('?seed=5&steps=1&clip=both');
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
    backend.load = async () => ({ ...info, name: 'other', defaultClip: 'image' });
    expect(await store.getState().openModel({ cachedModelId: 'other-000000000000' }, 'the cached model other')).toBe(true);
    expect(store.getState().clip).toBe('image');

    const plain = setup('?seed=5');
    expect(plain.store.getState().clip).toBeNull();
    plain.backend.load = async () => ({ ...info, defaultClip: 'image' });
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

describe('studio store: modes and conditions', () => {
  /** A 4×4 gray file: the left half white (a lesion, or a bright image half). */
  const halfWhite: PixelImage = { width: 4, height: 4, channels: 1, bitDepth: 8, data: Uint8Array.from({ length: 16 }, (_, i) => (i % 4 < 2 ? 255 : 0)) };
  const decoder = async (file: Blob) => {
    if ((file as File).name === 'notes.txt') throw new Error('it is not an image this browser can decode (type text/plain).');
    if ((file as File).name === 'anim.png') return { ...halfWhite, note: 'animated PNG (2 frames): the first frame is used' };
    return halfWhite;
  };
  const file = (name: string) => Object.assign(new Blob(['x']), { name });

  it('reads the mode from the URL and switches it, except while a run goes', async () => {
    const { store, step } = setup('?mode=image2mask');
    expect(store.getState().mode).toBe('imageToMask');
    await store.getState().load();
    store.getState().setMode('pair');
    expect(store.getState().mode).toBe('pair');
    const run = store.getState().generate();
    store.getState().setMode('maskToImage');
    expect(store.getState().mode).toBe('pair');
    for (let i = 0; i < 4; i++) await step();
    await run;
  });

  it('mask → image: Generate is blocked until the mask has a lesion; the drawn mask is sent; undo and clear', async () => {
    const { store, step, calls } = setup('?seed=5&mode=mask2image');
    await store.getState().load();
    expect(store.getState().mask?.mask).toEqual(new Uint8Array(H * W));
    expect(selectGenerateBlocker(store.getState())).toBe('Mask → image needs a mask: draw a lesion or upload a mask.');
    await store.getState().generate();
    expect(calls).toHaveLength(0);
    expect(store.getState().error).toBe('Mask → image needs a mask: draw a lesion or upload a mask.');
    store.getState().dismissError();

    store.getState().commitMask(Uint8Array.of(1, 0, 0, 0));
    store.getState().commitMask(Uint8Array.of(1, 1, 0, 0));
    expect(selectGenerateBlocker(store.getState())).toBeNull();
    const run = store.getState().generate();
    for (let i = 0; i < 4; i++) await step();
    await run;
    expect(calls[0]).toEqual({ seed: 5, steps: 3, clip: 'none', previews: true, mode: { kind: 'maskToImage', width: W, height: H, mask: Uint8Array.of(1, 1, 0, 0) } });
    expect(store.getState().result?.mode).toBe('maskToImage');

    store.getState().undoMask();
    expect(Array.from(store.getState().mask!.mask)).toEqual([1, 0, 0, 0]);
    store.getState().clearMask();
    expect(Array.from(store.getState().mask!.mask)).toEqual([0, 0, 0, 0]);
    store.getState().undoMask();
    expect(Array.from(store.getState().mask!.mask)).toEqual([1, 0, 0, 0]);
    store.getState().undoMask();
    store.getState().undoMask(); // nothing left to undo: stays at the first (empty) mask
    expect(Array.from(store.getState().mask!.mask)).toEqual([0, 0, 0, 0]);
  });

  it('an uploaded mask of another size is resized to the model, with the note; a bad file names itself and changes nothing', async () => {
    const { store } = setup('?mode=mask2image', decoder);
    await store.getState().load();
    await store.getState().uploadCondition('mask', file('lesion.png'));
    expect(Array.from(store.getState().mask!.mask)).toEqual([1, 0, 1, 0]);
    expect(store.getState().mask!.note).toBe('“lesion.png”: resized 4×4 → 2×2, lesion = gray level 255, area-averaged, lesion where ≥ 50% covered; 50.0% lesion');
    await store.getState().uploadCondition('mask', file('notes.txt'));
    expect(store.getState().error).toBe('Could not use “notes.txt” as a mask: it is not an image this browser can decode (type text/plain).');
    expect(Array.from(store.getState().mask!.mask)).toEqual([1, 0, 1, 0]);
    store.getState().undoMask(); // the upload is one undoable change
    expect(Array.from(store.getState().mask!.mask)).toEqual([0, 0, 0, 0]);
    // what the decoder says of the file comes first in the note
    await store.getState().uploadCondition('mask', file('anim.png'));
    expect(store.getState().mask!.note).toBe('“anim.png”: animated PNG (2 frames): the first frame is used; resized 4×4 → 2×2, lesion = gray level 255, area-averaged, lesion where ≥ 50% covered; 50.0% lesion');
  });

  it('image → mask: blocked without an image; an uploaded image is sent in model units', async () => {
    const { store, step, calls } = setup('?seed=5&mode=image2mask', decoder);
    await store.getState().load();
    expect(selectGenerateBlocker(store.getState())).toBe('Image → mask needs an image: upload one.');
    await store.getState().uploadCondition('image', file('scan.png'));
    expect(store.getState().conditionImage?.note).toBe('“scan.png”: resized 4×4 → 2×2, gray, scaled to [−1, 1]');
    // Pillow's antialiased bilinear 4 → 2 (computed with PIL: [[219, 36], [219, 36]])
    expect(Array.from(store.getState().conditionImage!.gray)).toEqual([219, 36, 219, 36]);
    const run = store.getState().generate();
    for (let i = 0; i < 4; i++) await step();
    await run;
    expect(calls[0]?.mode).toEqual({ kind: 'imageToMask', width: W, height: H, image: Float32Array.of(0.7176470756530762, -0.7176470756530762, 0.7176470756530762, -0.7176470756530762) });
  });
});

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

describe('studio store: faults', () => {
  it('a worker restart mid-run reopens the same model, keeps the frames that arrived and says what happened', async () => {
    const { store, step, backend } = setup();
    const loads: unknown[] = [];
    const load = backend.load;
    backend.load = async (request, onProgress) => {
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
    expect(loads).toEqual([{ modelUrl: `/models/${DEFAULT_MODEL}/`, backend: undefined }, { modelUrl: `/models/${DEFAULT_MODEL}/`, backend: undefined }]);
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
      const { store, backend } = setup();
      const loads: unknown[] = [];
      backend.load = async (request) => {
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

  it('a run that ends because the GPU device was lost shows the message and the model as the worker now has it (WASM)', async () => {
    const { store, backend } = setup();
    await store.getState().load();
    const wasm: ModelInfo = { ...info, backend: 'wasm', backendNote: 'the GPU device was lost (destroyed)' };
    backend.generate = async () => {
      throw { kind: 'backend', message: 'The GPU device was lost during the run (destroyed); the model was reopened on WASM. Press Generate to run again.', model: wasm };
    };
    backend.toError = (e) => e as StudioError;
    store.setState({ model: { ...info, backend: 'webgpu', backendNote: 'GPU-resident steps' } });
    await store.getState().generate();
    expect(store.getState().error).toBe('Generation failed: The GPU device was lost during the run (destroyed); the model was reopened on WASM. Press Generate to run again.');
    expect(store.getState().model?.backend).toBe('wasm');
    expect(store.getState().model?.backendNote).toBe('the GPU device was lost (destroyed)');
    expect(store.getState().phase).toBe('ready');
  });
});
