import pngjs from 'pngjs';
import { describe, expect, it } from 'vitest';
import { datasetAbout, listDocuments } from '../../core/dataset/about';
import { caseFiles, datasetFiles } from '../../core/dataset/nnunet';
import { zip } from '../../core/dataset/zip';
import { MAX_BATCH_SIZE } from '../../core/limits';
import { readZip } from '../../testing/unzip';
import type { BatchPair, BatchProgress, ModelInfo } from '../../worker/api';
import {
  APP_VERSION,
  areaPercent,
  batchProgressText,
  batchRemainingMs,
  comparePairs,
  datasetNameShown,
  datasetZip,
  datasetZipName,
  exportedPairs,
  isEmptyMask,
  parseBatchInputs,
  parseDatasetFolder,
} from './batch';

const H = 2;
const W = 3;
const model: Pick<ModelInfo, 'binarize' | 'dataset' | 'resolution' | 'card' | 'documents'> = {
  resolution: [H, W],
  binarize: { kernel: 5, weights: [0.75, 0.25] },
  dataset: { name: 'fake', resolution: [H, W], modality: 'ultrasound', files: { mask: { file: 'mask.onnx', sha256: 'ab'.repeat(32) } } },
  card: { data: 'Some lesions, 12 pairs', license: 'CC-BY 4.0', citation: 'A. Author, "Lesions", 2024.', licenseFile: 'LICENSE-DATA.txt' },
  documents: [
    { file: 'LICENSE-DATA.txt', path: 'LICENSE-DATA.txt', bytes: new TextEncoder().encode('the notice\n') },
    { file: 'README.md', path: 'MODEL-CARD.md', bytes: new TextEncoder().encode('# fake\n') },
  ],
};
const FOLDER = 'Dataset501_fake';

function pair(seed: number, lesion: number): BatchPair {
  return {
    index: seed,
    mode: 'pair',
    seed,
    steps: 4,
    eta: 0,
    clip: 'none',
    width: W,
    height: H,
    mask: Uint8Array.from({ length: H * W }, (_, i) => (i < lesion ? 1 : 0)),
    image: Float32Array.from({ length: H * W }, (_, i) => i / 3 - 1),
    backend: 'wasm',
    totalMs: 40,
    msPerStep: 10,
    phases: { modelMs: 36, readMs: 0, framesMs: 0, otherMs: 4 },
  };
}

describe('batch inputs', () => {
  it('takes a start seed and a size, and names what is wrong', () => {
    expect(parseBatchInputs('7', '4')).toEqual({ startSeed: 7, count: 4 });
    expect(parseBatchInputs('-1', '4')).toMatch(/^Batch start seed must be a whole number from 0 to 4294967295/);
    expect(parseBatchInputs('0', '0')).toMatch(new RegExp(`^Batch size must be a whole number from 1 to ${MAX_BATCH_SIZE}`));
    expect(parseBatchInputs('0', String(MAX_BATCH_SIZE + 1))).toMatch(/^Batch size must/);
    expect(parseBatchInputs('0', '2.5')).toMatch(/^Batch size must/);
    expect(parseBatchInputs('4294967295', '2')).toBe('The seeds 4294967295 … 4294967296 go past 4294967295; start at 4294967294 at the most.');
  });
});

describe('batch progress and ETA', () => {
  const p = (index: number, step: number, elapsedMs: number): BatchProgress => ({ index, count: 4, seed: 10 + index, step, steps: 8, elapsedMs });
  it('estimates the time left from the steps done over the whole batch', () => {
    expect(batchRemainingMs(p(0, 0, 0))).toBeNull();
    // pair 2 of 4, 4 of its 8 steps: 12 of 32 steps in 1.2 s → 20 steps left at 100 ms
    expect(batchRemainingMs(p(1, 4, 1200))).toBeCloseTo(2000, 6);
    expect(batchProgressText(p(1, 4, 1200))).toBe('Batch: pair 2 of 4 (seed 11), step 4 of 8 · ETA 2.0 s');
    expect(batchProgressText(p(0, 0, 0))).toBe('Batch: pair 1 of 4 (seed 10), step 0 of 8');
    expect(batchProgressText(p(1, 4, 1200), true)).toBe('Cancelling the batch… pair 2 of 4');
  });
});

describe('mask area, empty masks and the exported pairs', () => {
  it('prints the lesion area per pair and flags empty masks', () => {
    expect(areaPercent(pair(0, 3).mask)).toBe('50.0%');
    expect(areaPercent(pair(0, 0).mask)).toBe('0.0%');
    expect(isEmptyMask(pair(0, 0).mask)).toBe(true);
    expect(isEmptyMask(pair(0, 1).mask)).toBe(false);
  });
  it('keeps every pair in seed order, or leaves the empty ones out and counts them', () => {
    const pairs = [pair(5, 1), pair(3, 0), pair(4, 2), pair(6, 0)];
    expect(exportedPairs(pairs, false)).toEqual({ kept: [pairs[1], pairs[2], pairs[0], pairs[3]], excluded: 0 });
    expect(exportedPairs(pairs, true)).toEqual({ kept: [pairs[2], pairs[0]], excluded: 2 });
  });
});

describe('the dataset ZIP', () => {
  it('holds the nnU-Net raw layout, the manifest and the model folder’s documents under DatasetNNN_Name/, the same bytes as core/dataset gives the CLI', async () => {
    const pairs = [pair(8, 2), pair(7, 0)];
    const bytes = await datasetZip(pairs, model, 'png', FOLDER);
    const files = readZip(bytes);
    expect([...files.keys()]).toEqual(
      [
        'imagesTr/pig_0000000007_0000.png',
        'labelsTr/pig_0000000007.png',
        'imagesTr/pig_0000000008_0000.png',
        'labelsTr/pig_0000000008.png',
        'dataset.json',
        'manifest.json',
        'README.md',
        'LICENSE-DATA.txt',
        'MODEL-CARD.md',
      ].map((p) => `${FOLDER}/${p}`),
    );
    const get = (path: string) => files.get(`${FOLDER}/${path}`)!;
    const label = pngjs.PNG.sync.read(Buffer.from(get('labelsTr/pig_0000000008.png')));
    expect([label.width, label.height]).toEqual([W, H]);
    expect(Array.from({ length: H * W }, (_, i) => label.data[i * 4])).toEqual([1, 1, 0, 0, 0, 0]);
    expect(new TextDecoder().decode(get('LICENSE-DATA.txt'))).toBe('the notice\n');
    const dataset = JSON.parse(new TextDecoder().decode(get('dataset.json')));
    expect(dataset).toMatchObject({ channel_names: { '0': 'ultrasound' }, labels: { background: 0, lesion: 1 }, numTraining: 2, file_ending: '.png' });
    expect(dataset).toMatchObject({ licence: 'CC-BY 4.0', reference: 'A. Author, "Lesions", 2024.' });
    expect(dataset.description).toMatch(/model "fake", trained on Some lesions, 12 pairs\. It carries LICENSE-DATA\.txt and MODEL-CARD\.md/);
    const manifest = JSON.parse(new TextDecoder().decode(get('manifest.json')));
    expect(manifest.model).toEqual(model.dataset);
    expect(
      manifest.cases.map((c: { seed: number; steps: number; appVersion: string; empty: boolean; maskAreaFraction: number }) => [
        c.seed,
        c.steps,
        c.appVersion,
        c.empty,
        c.maskAreaFraction,
      ]),
    ).toEqual([
      [7, 4, APP_VERSION, true, 0],
      [8, 4, APP_VERSION, false, 2 / 6],
    ]);
    // what the CLI writes for these pixels (it calls caseFiles with SamplerResult's ±1 mask)
    const cli = [];
    for (const p of pairs) {
      const mask = Float32Array.from(p.mask, (v) => (v ? 1 : -1));
      cli.push(
        await caseFiles(
          { seed: p.seed, mode: 'pair', steps: 4, eta: 0, clip: 'none', binarize: model.binarize, appVersion: APP_VERSION, model: model.dataset },
          { mask, image: p.image },
          [H, W],
        ),
      );
    }
    const about = datasetAbout(model.card, 'fake', ['LICENSE-DATA.txt', 'MODEL-CARD.md']);
    // manifest.json lists the documents with their SHA-256, as the CLI's folder does (RELIABILITY.md, [16])
    const documentList = await listDocuments(model.documents);
    expect(manifest.documents).toEqual(documentList);
    expect(manifest.documents[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(bytes).toEqual(
      zip(datasetFiles(cli, model.dataset, { about, documents: model.documents, documentList }).map((f) => ({ ...f, path: `${FOLDER}/${f.path}` }))),
    );
  });

  it('writes NIfTI when asked, and refuses an empty export', async () => {
    const files = readZip(await datasetZip([pair(1, 1)], { ...model, documents: [] }, 'nifti', 'Dataset777_x'));
    expect([...files.keys()]).toEqual(
      ['imagesTr/pig_0000000001_0000.nii.gz', 'labelsTr/pig_0000000001.nii.gz', 'dataset.json', 'manifest.json', 'README.md'].map((p) => `Dataset777_x/${p}`),
    );
    const dataset = JSON.parse(new TextDecoder().decode(files.get('Dataset777_x/dataset.json')));
    expect(dataset.file_ending).toBe('.nii.gz');
    expect(dataset.description).toMatch(/The model's folder gave no data license file or model card\./);
    await expect(datasetZip([], model, 'png', FOLDER)).rejects.toThrow('there is no pair to export');
  });

  it('its top folder: DatasetNNN_ with the id in 3 digits and the name made safe (empty: the model’s); a bad id is named', () => {
    expect(parseDatasetFolder('501', '', 'busbra64')).toEqual({ folder: 'Dataset501_busbra64' });
    expect(parseDatasetFolder(' 7 ', 'My lesions (v2)', 'tiny')).toEqual({ folder: 'Dataset007_My-lesions-v2' });
    expect(datasetNameShown('', 'a b')).toBe('a-b');
    for (const bad of ['0', '1000', '-1', '5.5', 'x', ''])
      expect(parseDatasetFolder(bad, '', 'tiny')).toMatch(/Dataset id must be a whole number from 1 to 999/);
  });

  it('a model with attributes: each case record carries the pair’s attributes and w, and dataset.json says what was asked for, as the CLI writes them', async () => {
    const conditioned = (seed: number, pathology: string): BatchPair => ({
      ...pair(seed, 1),
      attributes: { pathology, birads: 'any' },
      guidance: 2,
    });
    const pairs = [conditioned(3, 'malignant'), conditioned(4, 'benign')];
    const files = readZip(await datasetZip(pairs, { ...model, documents: [] }, 'png', FOLDER));
    const manifest = JSON.parse(new TextDecoder().decode(files.get(`${FOLDER}/manifest.json`)));
    expect(manifest.cases.map((c: { attributes: unknown; guidance: unknown }) => [c.attributes, c.guidance])).toEqual([
      [{ pathology: 'malignant', birads: 'any' }, 2],
      [{ pathology: 'benign', birads: 'any' }, 2],
    ]);
    const dataset = JSON.parse(new TextDecoder().decode(files.get(`${FOLDER}/dataset.json`)));
    expect(dataset.description).toContain(
      'Attributes asked for, with the number of cases: pathology malignant (1), benign (1); birads any (2); classifier-free guidance w = 2.',
    );
  });

  it('is named after the model, the first seed, the steps and the count', () => {
    expect(datasetZipName('tiny', [pair(9, 1), pair(8, 1)])).toBe('tiny_seed8_steps4_n2_dataset.zip');
  });
});

describe('comparePairs', () => {
  it('says whether a re-run gave the same pair, and how far apart otherwise', () => {
    const a = pair(1, 2);
    expect(comparePairs(a, pair(1, 2))).toEqual({ identical: true, maskPixels: 0, maxImageDiff: 0 });
    const b = pair(1, 3);
    b.image[0] += 0.5;
    expect(comparePairs(a, b)).toEqual({ identical: false, maskPixels: 1, maxImageDiff: 0.5 });
  });
});
