import { describe, expect, it } from 'vitest';
import { imageFromPixels, maskFromPixels, type PixelImage } from '../../core/condition';
import { imageToGray8 } from '../../core/png';
import { parseUrlOptions } from '../config';
import { createStudioStore } from '../store/store';
import { H, setup, W } from '../store/store-test-kit';
import type { FolderFile } from './folder';
import { answersCsv, type ReaderSession } from './session';
import type { ReaderTestStorage } from './storage';

/** Keeps the session as IndexedDB would: structured copies, cases and answers written apart. */
function memoryStorage() {
  let cases: Omit<ReaderSession, 'answers'> | null = null;
  let answers: { createdAt: string; answers: ReaderSession['answers'] } | null = null;
  const storage: ReaderTestStorage = {
    async save(s) {
      const { answers: a, ...rest } = s;
      cases = structuredClone(rest);
      answers = structuredClone({ createdAt: s.createdAt, answers: a });
    },
    async saveAnswers(createdAt, a) {
      answers = structuredClone({ createdAt, answers: a });
    },
    async load() {
      if (!cases) return null;
      return structuredClone({ ...cases, answers: answers?.createdAt === cases.createdAt ? answers.answers : [] });
    },
    async clear() {
      cases = null;
      answers = null;
    },
  };
  return { storage, saved: () => cases };
}

/** A 4×3 gray image whose pixels are `f(x, y)` (the real images: larger than the model's 2×2, resized). */
const gray = (f: (x: number, y: number) => number): PixelImage => ({
  width: 4,
  height: 3,
  channels: 1,
  bitDepth: 8,
  data: Uint8Array.from({ length: 12 }, (_, i) => f(i % 4, Math.floor(i / 4))),
});

const PIXELS: Record<string, PixelImage> = {
  'a.png': gray((x) => x * 60),
  'b.png': gray((_, y) => 20 + y * 50),
  'c.png': gray((x, y) => 200 - x * 10 - y * 30),
  'mask_a.png': gray((x) => (x < 2 ? 255 : 0)),
  'mask_b.png': gray(() => 0),
  'mask_c.png': gray((_, y) => (y === 2 ? 255 : 0)),
  'broken.png': { width: 4, height: 3, channels: 1, bitDepth: 8, data: new Uint8Array(12).fill(9) }, // blank: refused
};
const decode = async (file: Blob) => {
  const px = PIXELS[await file.text()];
  if (!px) throw new Error('not an image');
  return px;
};
const folderFiles = (...names: string[]): FolderFile[] =>
  names.map((n) => ({ path: n.startsWith('mask_') ? `real/Masks/${n}` : `real/Images/${n.replace(/^/, 'bus_')}`, file: new Blob([n]) }));
const BUS_BRA = folderFiles('a.png', 'b.png', 'c.png', 'mask_a.png', 'mask_b.png', 'mask_c.png');

async function ready(storage: ReaderTestStorage | null, search = '?steps=2') {
  const fake = setup(search);
  const store = createStudioStore({
    worker: fake.worker,
    options: parseUrlOptions(search),
    scheduleFlush: (f) => f(),
    decodeImage: decode,
    readerTestStorage: storage,
  });
  await store.getState().load();
  return { ...fake, store };
}

/** Runs the preparation to the end, stepping the fake worker. */
async function prepared(s: Awaited<ReturnType<typeof ready>>) {
  const run = s.store.getState().startReaderTest();
  while (s.store.getState().readerTest.stage === 'preparing') await s.step();
  await run;
  return s.store.getState().readerTest;
}

describe('reader test: preparing a test', () => {
  it('reads N real images as the loader preprocesses them, generates N pairs (pair mode), mixes them in the seed’s order', async () => {
    const s = await ready(memoryStorage().storage, '?steps=2&mode=mask2image');
    s.store.getState().chooseRealFolder('real', BUS_BRA);
    expect(s.store.getState().readerTest.folder).toMatchObject({ masked: 3, skipped: 0 });
    s.store.getState().setReaderTest({ pairsText: '2', seedText: '40' });
    const rt = await prepared(s);
    expect(s.store.getState().error).toBeNull();
    expect(s.batchCalls).toEqual([{ startSeed: 40, count: 2, steps: 2, clip: 'none' }]);
    expect(rt.stage).toBe('test');
    const test = rt.session as ReaderSession;
    expect(test).toMatchObject({ seed: 40, pairs: 2, width: W, height: H, masks: true, answers: [], skipped: [] });
    expect(test.model).toMatchObject({ name: 'fake', steps: 2, clip: 'none', files: { mask: { file: 'mask.onnx' } } });
    expect(test.model.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(test.cases.map((c) => c.truth).sort()).toEqual(['real', 'real', 'synthetic', 'synthetic']);
    for (const c of test.cases) {
      if (c.truth === 'synthetic') {
        // the fake's pair for seed s: image s / 100 everywhere, lesion at pixel 0 for even seeds
        const seed = Number(c.source.replace('seed ', ''));
        expect([40, 41]).toContain(seed);
        expect(Array.from(c.gray)).toEqual(Array.from(imageToGray8(new Float32Array(H * W).fill(seed / 100))));
        expect(Array.from(c.mask ?? [])).toEqual(seed % 2 === 0 ? [1, 0, 0, 0] : [0, 0, 0, 0]);
      } else {
        // the real image: the kit loader's preprocessing at the model's size, through the same 8-bit path
        const name = c.source.replace('real/Images/bus_', '');
        expect(Array.from(c.gray)).toEqual(Array.from(imageToGray8(imageFromPixels(PIXELS[name], [H, W]).image)));
        expect(Array.from(c.mask ?? [])).toEqual(Array.from(maskFromPixels(PIXELS[`mask_${name}`], [H, W], { allowEmpty: true }).mask));
      }
    }
    // the same seed, the same draws and order
    const again = await ready(null, '?steps=2');
    again.store.getState().chooseRealFolder('real', [...BUS_BRA].reverse());
    again.store.getState().setReaderTest({ pairsText: '2', seedText: '40' });
    expect((await prepared(again)).session?.cases.map((c) => c.source)).toEqual(test.cases.map((c) => c.source));
  });

  it('skips an unreadable real image and records why; N over the usable images is refused naming the limit', async () => {
    const s = await ready(null);
    s.store.getState().chooseRealFolder('real', folderFiles('a.png', 'broken.png', 'c.png'));
    s.store.getState().setReaderTest({ pairsText: '4', seedText: '1' });
    await s.store.getState().startReaderTest();
    expect(s.store.getState().error).toBe('The number of real images must be a whole number from 1 to 3 (the folder has 3 images).');
    s.store.getState().setReaderTest({ pairsText: '2' });
    const rt = await prepared(s);
    expect(rt.session?.skipped).toEqual(['real/Images/bus_broken.png: The image is blank: every pixel has gray value 9.']);
    expect(rt.session?.masks).toBe(false); // no masks in this folder: they stay hidden
    s.store.getState().discardReaderTest();
    s.store.getState().setReaderTest({ pairsText: '3' });
    await prepared(s);
    expect(s.store.getState().error).toBe(
      "Only 2 of the folder's images could be read (real/Images/bus_broken.png: The image is blank: every pixel has gray value 9.): choose N up to 2, or another folder.",
    );
    expect(s.store.getState().phase).toBe('ready');
  });

  it('Cancel stops the generation: no test, nothing kept, the studio ready', async () => {
    const mem = memoryStorage();
    const s = await ready(mem.storage);
    s.store.getState().chooseRealFolder('real', BUS_BRA);
    s.store.getState().setReaderTest({ pairsText: '3', seedText: '0' });
    const run = s.store.getState().startReaderTest();
    while (s.batchCalls.length === 0) await s.step();
    await s.step();
    s.store.getState().cancelReaderTest();
    await run;
    const { readerTest, phase } = s.store.getState();
    expect(phase).toBe('ready');
    expect(readerTest).toMatchObject({ stage: 'setup', session: null, progress: null, note: 'Cancelled: no test was made.' });
    expect(mem.saved()).toBeNull();
  });

  it('a worker that stops while the pairs are generated ends the preparation (not left preparing)', async () => {
    const s = await ready(null);
    s.store.getState().chooseRealFolder('real', BUS_BRA);
    s.store.getState().setReaderTest({ pairsText: '2', seedText: '0' });
    const run = s.store.getState().startReaderTest();
    while (s.batchCalls.length === 0) await s.step();
    await s.store.getState().workerRestarted('test');
    // the fake batch runs on to its end (2 pairs × 2 steps); bounded, so that a preparation left hanging fails here
    for (let i = 0; i < 10 && s.store.getState().readerTest.stage === 'preparing'; i++) await s.step();
    await run;
    expect(s.store.getState().readerTest).toMatchObject({
      stage: 'setup',
      session: null,
      progress: null,
      note: 'Stopped: the studio worker stopped; no test was made.',
    });
    expect(s.store.getState().phase).toBe('ready');
  });
});

describe('reader test: answers, and a reload that resumes', () => {
  it('keeps each answer; a new page over the same storage offers the test and resumes where it stopped', async () => {
    const mem = memoryStorage();
    const s = await ready(mem.storage);
    s.store.getState().chooseRealFolder('real', BUS_BRA);
    s.store.getState().setReaderTest({ pairsText: '2', seedText: '7' });
    const first = (await prepared(s)).session as ReaderSession;
    await s.store.getState().answerReaderCase({ answer: 'synthetic', confidence: 4, timeMs: 1200 });
    await s.store.getState().answerReaderCase({ answer: 'real', confidence: null, timeMs: 800 });

    // the reload: a new store over the same storage
    const page = await ready(mem.storage);
    await page.store.getState().checkStoredReaderTest();
    expect(page.store.getState().readerTest.stored).toEqual({ answered: 2, total: 4, model: 'fake', createdAt: first.createdAt });
    await page.store.getState().resumeReaderTest();
    const resumed = page.store.getState().readerTest.session as ReaderSession;
    expect(resumed.cases.map((c) => [c.source, Array.from(c.gray), c.mask && Array.from(c.mask)])).toEqual(
      first.cases.map((c) => [c.source, Array.from(c.gray), c.mask && Array.from(c.mask)]),
    );
    await page.store.getState().answerReaderCase({ answer: 'real', confidence: 1, timeMs: 500 });
    await page.store.getState().answerReaderCase({ answer: 'synthetic', confidence: 5, timeMs: 650 });
    await page.store.getState().answerReaderCase({ answer: 'real', confidence: 5, timeMs: 1 }); // past the end: ignored
    const done = page.store.getState().readerTest.session as ReaderSession;
    expect(done.answers.map((a) => [a.answer, a.confidence, a.timeMs])).toEqual([
      ['synthetic', 4, 1200],
      ['real', null, 800],
      ['real', 1, 500],
      ['synthetic', 5, 650],
    ]);
    const rows = answersCsv(done).trim().split('\r\n');
    expect(rows[0]).toBe('case,truth,answer,confidence,score,time_ms,source');
    expect(rows[1]).toBe(`1,${done.cases[0].truth},synthetic,4,9,1200,${done.cases[0].source}`);
    expect(rows[2]).toBe(`2,${done.cases[1].truth},real,,3,800,${done.cases[1].source}`);

    // discarded: the next page offers nothing
    await page.store.getState().discardReaderTest();
    const later = await ready(mem.storage);
    await later.store.getState().checkStoredReaderTest();
    expect(later.store.getState().readerTest.stored).toBeNull();
  });
});
