// The nnU-Net v2 raw dataset as the studio zips it: layout, label values, dataset.json and
// manifest.json fields, read back by Python (zipfile + PIL) from the archive.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { caseSettings } from '../../testing/dataset-case';
import { pythonHas, runPythonJson } from '../../testing/python';
import { validateManifest } from '../manifest';
import { datasetAbout, readDocuments } from './about';
import { caseFiles, caseName, datasetFiles, datasetIndexFiles, datasetModel } from './nnunet';
import { zip } from './zip';

const tinyManifest = validateManifest(JSON.parse(readFileSync(new URL('../../../public/models/tiny/manifest.json', import.meta.url), 'utf8')));
const about = datasetAbout(tinyManifest.card, tinyManifest.name, []);

/** A 4×6 pair: the mask has `lesion` pixels set (±1), the image a ramp over [−1, 1]. */
function pixels(lesion: number) {
  const mask = Float32Array.from({ length: 24 }, (_, i) => (i < lesion ? 1 : -1));
  const image = Float32Array.from({ length: 24 }, (_, i) => -1 + (2 * i) / 23);
  return { mask, image };
}

describe('case naming and records', () => {
  it('names are pig_ + the seed in 10 digits, so they sort in seed order', () => {
    expect(caseName(7)).toBe('pig_0000000007');
    expect(caseName(4294967295)).toBe('pig_4294967295');
    expect([caseName(10), caseName(9)].sort()).toEqual([caseName(9), caseName(10)]);
    expect(() => caseName(-1)).toThrow(/seed must be an integer/);
  });

  it('a case record holds the settings, the mask area and the empty flag', async () => {
    const { record, files } = await caseFiles(caseSettings(7), pixels(6), [4, 6]);
    expect(record).toEqual({
      case: 'pig_0000000007',
      seed: 7,
      mode: 'pair',
      steps: 4,
      eta: 0,
      clip: 'none',
      binarize: { kernel: 5, weights: [0.75, 0.25] },
      maskAreaFraction: 6 / 24,
      empty: false,
      appVersion: '9.9.9',
      files: ['imagesTr/pig_0000000007_0000.png', 'labelsTr/pig_0000000007.png'],
    });
    expect(files.map((f) => f.path)).toEqual(record.files);
    const empty = await caseFiles(caseSettings(8), pixels(0), [4, 6]);
    expect(empty.record).toMatchObject({ maskAreaFraction: 0, empty: true });
  });

  it('the model: name, every file SHA-256 from its manifest, modality ultrasound unless the manifest says', () => {
    const m = datasetModel(tinyManifest);
    expect(m.name).toBe('tiny');
    expect(m.modality).toBe('ultrasound');
    expect(m.files.mask).toEqual({ file: 'mask.onnx', sha256: tinyManifest.models.mask.sha256 });
    expect(m.files.image.sha256).toBe(tinyManifest.models.image.sha256);
    // the weights files, once each (a graph's SHA-256 does not cover the weights it keeps outside)
    expect(Object.keys(m.files)).toEqual(['mask', 'image', 'maskStep', 'imageStep', 'maskWeights', 'imageWeights']);
    expect(m.files.maskWeights).toEqual({ file: 'mask.weights', sha256: tinyManifest.models.mask.weights!.sha256 });
    expect(m.files.imageWeights.sha256).toBe(tinyManifest.models.imageStep!.weights!.sha256);
    expect(datasetModel({ ...tinyManifest, modality: 'US-Doppler' }).modality).toBe('US-Doppler');
    expect(datasetModel({ ...tinyManifest, card: { ...tinyManifest.card, modality: 'MRI' } }).modality).toBe('MRI');
  });

  it('the index files are the same bytes whatever order the cases come in; a duplicate case is refused', async () => {
    const model = datasetModel(tinyManifest);
    const recs = await Promise.all([3, 1, 2].map(async (s) => (await caseFiles(caseSettings(s), pixels(s), [4, 6])).record));
    const a = datasetIndexFiles(recs, model, { about });
    const b = datasetIndexFiles([...recs].reverse(), model, { about });
    expect(a.map((f) => Buffer.from(f.bytes).toString())).toEqual(b.map((f) => Buffer.from(f.bytes).toString()));
    expect(() => datasetIndexFiles([recs[0], recs[0]], model, { about })).toThrow(/case pig_0000000003 appears twice/);
  });

  it('case files are deflated by fflate (pure JS: the studio’s ZIP holds the CLI’s bytes), read back by zlib, smaller than stored', async () => {
    // a 64×64 label with a disc: what a dataset holds, and what deflate shrinks
    const disc = Float32Array.from({ length: 64 * 64 }, (_, i) => (((i % 64) - 30) ** 2 + (Math.floor(i / 64) - 34) ** 2 < 150 ? 1 : -1));
    const ramp = Float32Array.from({ length: 64 * 64 }, (_, i) => -1 + (2 * (i % 64)) / 63);
    for (const format of ['png', 'nifti'] as const) {
      const deflated = await caseFiles({ ...caseSettings(4), format }, { mask: disc, image: ramp }, [64, 64]);
      const again = await caseFiles({ ...caseSettings(4), format }, { mask: disc, image: ramp }, [64, 64]);
      expect(again.files).toEqual(deflated.files);
      for (const f of deflated.files) {
        const original = format === 'png' ? PNG.sync.read(Buffer.from(f.bytes)).data.filter((_, i) => i % 4 === 0) : gunzipSync(f.bytes).subarray(352);
        expect(original.length, f.path).toBe(64 * 64);
        expect(f.bytes.length, `${f.path}: ${f.bytes.length} bytes deflated`).toBeLessThan((64 * 64) / 4);
      }
    }
  });

  it('format nifti: .nii.gz files, file_ending ".nii.gz"; one dataset never mixes formats', async () => {
    const model = datasetModel(tinyManifest);
    const nifti = await caseFiles({ ...caseSettings(4), format: 'nifti' }, pixels(3), [4, 6]);
    expect(nifti.record.files).toEqual(['imagesTr/pig_0000000004_0000.nii.gz', 'labelsTr/pig_0000000004.nii.gz']);
    expect(Array.from(nifti.files[0].bytes.subarray(0, 2))).toEqual([0x1f, 0x8b]); // gzip
    const index = datasetIndexFiles([nifti.record], model, { format: 'nifti', about });
    expect(JSON.parse(Buffer.from(index[0].bytes).toString()).file_ending).toBe('.nii.gz');
    const png = await caseFiles(caseSettings(5), pixels(3), [4, 6]);
    expect(() => datasetIndexFiles([nifti.record, png.record], model, { format: 'nifti', about })).toThrow(/case pig_0000000005 is png, the dataset nifti/);
  });
});

const READ_DATASET = `
import io, json, sys, zipfile
import numpy as np
from PIL import Image
with zipfile.ZipFile(sys.argv[1]) as z:
    names = sorted(z.namelist())
    out = {"bad": z.testzip(), "names": names,
           "dataset": json.loads(z.read("dataset.json")), "manifest": json.loads(z.read("manifest.json")), "labels": {}, "images": {},
           "license": z.read("DATA-LICENSE.txt").decode("utf-8")}
    for n in names:
        if n.endswith(".png"):
            im = Image.open(io.BytesIO(z.read(n)))
            a = np.asarray(im)
            entry = {"mode": im.mode, "shape": list(a.shape), "values": sorted(set(a.ravel().tolist()))}
            (out["labels"] if n.startswith("labelsTr/") else out["images"])[n] = entry
print(json.dumps(out))
`;

const hasPython = pythonHas('zipfile', 'numpy', 'PIL');
if (!hasPython) console.warn('SKIPPED dataset ZIP reading test: needs /usr/bin/python3 with numpy and PIL');

describe.skipIf(!hasPython)('a batch as a ZIP, read by Python', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pig-dataset-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('nnU-Net v2 layout, labels 0/1, dataset.json and manifest.json fields, the data license', async () => {
    const model = datasetModel(tinyManifest);
    const cases = await Promise.all([12, 3, 5].map((s, i) => caseFiles(caseSettings(s), pixels([4, 0, 24][i]), [4, 6])));
    const folder = new URL('../../../public/models/tiny/', import.meta.url);
    const documents = await readDocuments(
      tinyManifest.card,
      async (f) => readFileSync(new URL(f, folder)),
      (f) => f === 'DATA-LICENSE.txt',
    );
    const path = join(dir, 'batch.zip');
    writeFileSync(
      path,
      zip(
        datasetFiles(cases, model, {
          about: datasetAbout(
            tinyManifest.card,
            'tiny',
            documents.map((d) => d.path),
          ),
          documents,
        }),
      ),
    );
    type Png = { mode: string; shape: number[]; values: number[] };
    const got = runPythonJson<{
      bad: null;
      names: string[];
      dataset: Record<string, unknown>;
      manifest: any;
      labels: Record<string, Png>;
      images: Record<string, Png>;
      license: string;
    }>(READ_DATASET, path);
    expect(got.bad).toBeNull();
    expect(got.names).toEqual([
      'DATA-LICENSE.txt',
      'README.md',
      'dataset.json',
      'imagesTr/pig_0000000003_0000.png',
      'imagesTr/pig_0000000005_0000.png',
      'imagesTr/pig_0000000012_0000.png',
      'labelsTr/pig_0000000003.png',
      'labelsTr/pig_0000000005.png',
      'labelsTr/pig_0000000012.png',
      'manifest.json',
    ]);
    expect(got.dataset).toMatchObject({ channel_names: { '0': 'ultrasound' }, labels: { background: 0, lesion: 1 }, numTraining: 3, file_ending: '.png' });
    // nnU-Net's generate_dataset_json keys, from the model's card
    expect(got.dataset).toMatchObject({ licence: tinyManifest.card.license, reference: tinyManifest.card.citation });
    expect(got.dataset.description).toContain(`trained on ${tinyManifest.card.data}. It carries DATA-LICENSE.txt from the model's folder.`);
    expect(got.license).toBe(readFileSync(new URL('DATA-LICENSE.txt', folder), 'utf8'));
    expect(got.labels['labelsTr/pig_0000000012.png']).toEqual({ mode: 'L', shape: [4, 6], values: [0, 1] });
    expect(got.labels['labelsTr/pig_0000000003.png'].values).toEqual([0]); // the empty mask
    expect(got.labels['labelsTr/pig_0000000005.png'].values).toEqual([1]); // all lesion
    expect(got.images['imagesTr/pig_0000000003_0000.png']).toMatchObject({ mode: 'L', shape: [4, 6] });
    expect(got.images['imagesTr/pig_0000000003_0000.png'].values[0]).toBe(0); // ramp from −1 → 0 …
    expect(got.images['imagesTr/pig_0000000003_0000.png'].values.at(-1)).toBe(255); // … to +1 → 255
    expect(got.manifest.model.files.mask.sha256).toBe(tinyManifest.models.mask.sha256);
    expect(got.manifest.model.files.image.sha256).toBe(tinyManifest.models.image.sha256);
    expect(got.manifest.numCases).toBe(3);
    expect(got.manifest.cases.map((c: { seed: number }) => c.seed)).toEqual([3, 5, 12]);
    expect(got.manifest.cases[0]).toMatchObject({
      steps: 4,
      eta: 0,
      mode: 'pair',
      empty: true,
      maskAreaFraction: 0,
      appVersion: '9.9.9',
      binarize: { kernel: 5, weights: [0.75, 0.25] },
    });
  });
});
