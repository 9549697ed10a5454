// The batch CLI as a user runs it (a child process of `tsx src/cli/generate.ts`), on the tiny pair
// with few steps and one thread: layout, label values, dataset.json and manifest.json, raw arrays,
// determinism, resume (after a shorter run and after SIGKILL), shard union, and the messages for a
// bad model, mask or output folder (a mask folder with several bad files: all of them named).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL } from '../core/default-model';
import { gaussian, Stream } from '../core/noise';
import { imageToGray8 } from '../core/png';
import { type CliResult, cli, NODE_TSX, present, root, snapshot, tiny } from '../testing/cli';
import { pythonHas, runPythonJson } from '../testing/python';

if (!present) console.warn(`SKIPPED CLI tests: no model pair at ${tiny}`);

const ok = (r: CliResult) => expect(r.code, r.stderr).toBe(0);
// the model folder's documents every dataset carries: its data license, and its model card where it has one
const DOCS = ['DATA-LICENSE.txt', ...(existsSync(join(tiny, 'README.md')) ? ['MODEL-CARD.md'] : [])];
const STEPS = '3';
const common = ['--model', tiny, '--steps', STEPS, '--threads', '1'];

describe.skipIf(!present)('generate CLI (tiny pair)', () => {
  const work = mkdtempSync(join(tmpdir(), 'pig-cli-'));
  const dir = (name: string) => join(work, name);
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  // one uninterrupted, unsharded run of seeds 5 … 8 that the others are compared with
  let reference: Promise<Record<string, string>> | undefined;
  const referenceRun = () =>
    (reference ??= cli(...common, '--seed', '5', '--count', '4', '--out', dir('reference')).then((r) => {
      ok(r);
      return snapshot(dir('reference'));
    }));

  it('a small batch: nnU-Net layout, labels 0/1, dataset.json, manifest with the model files’ SHA-256, raw arrays', async () => {
    const r = await cli(...common, '--seed', '5', '--count', '3', '--raw', '--out', dir('batch'));
    ok(r);
    expect(r.stdout).toMatch(/^seed 5: [\d.]+ ms, [\d.]+ ms\/step → pig_0000000005/m); // the evaluator parses this
    expect(r.stderr).toMatch(/3\/3 cases/);
    const names = Object.keys(snapshot(dir('batch'))).sort();
    const cases = ['pig_0000000005', 'pig_0000000006', 'pig_0000000007'];
    expect(names).toEqual(
      [
        'dataset.json',
        'manifest.json',
        'README.md',
        ...DOCS,
        ...cases.map((c) => `cases/${c}.json`),
        ...cases.map((c) => `imagesTr/${c}_0000.png`),
        ...cases.map((c) => `labelsTr/${c}.png`),
        ...cases.flatMap((c) => ['xT', 'yT', 'x0', 'y0'].map((a) => `raw/${c}_${a}.npy`)),
      ].sort(),
    );
    const dataset = JSON.parse(readFileSync(join(dir('batch'), 'dataset.json'), 'utf8'));
    expect(dataset).toMatchObject({ channel_names: { '0': 'ultrasound' }, labels: { background: 0, lesion: 1 }, numTraining: 3, file_ending: '.png' });
    const manifest = JSON.parse(readFileSync(join(dir('batch'), 'manifest.json'), 'utf8'));
    const model = JSON.parse(readFileSync(join(tiny, 'manifest.json'), 'utf8'));
    // licence, reference and description from the model's card; its data license file copied as is
    expect(dataset).toMatchObject({ licence: model.card.license, reference: model.card.citation });
    expect(dataset.description).toContain(`trained on ${model.card.data}. It carries ${DOCS.join(' and ')} from the model's folder.`);
    expect(readFileSync(join(dir('batch'), 'DATA-LICENSE.txt'))).toEqual(readFileSync(join(tiny, 'DATA-LICENSE.txt')));
    for (const role of ['mask', 'image']) {
      const file = model.models[role].file;
      const onDisk = createHash('sha256')
        .update(readFileSync(join(tiny, file)))
        .digest('hex');
      expect(manifest.model.files[role]).toEqual({ file, sha256: onDisk });
    }
    expect(manifest.model.name).toBe('tiny');
    expect(manifest.cases.map((c: { case: string }) => c.case)).toEqual(cases);
    const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
    expect(manifest.cases[0]).toMatchObject({
      seed: 5,
      steps: 3,
      eta: 0,
      clip: model.sampler.clip ?? 'none',
      mode: 'pair',
      appVersion: version,
      binarize: model.sampler.binarize,
    });

    if (!pythonHas('numpy', 'PIL')) return console.warn('SKIPPED reading the batch with numpy/PIL');
    // Read back with numpy/PIL: labels are 0/1 and match the record; the image PNG is ŷ₀ quantised;
    // x_T, y_T are the seed's noise streams (contracts.md §3).
    const got = runPythonJson<Record<string, { label: number[]; area: number; image: number[]; xT: number[]; yT: number[]; y0: number[]; x0: number[] }>>(
      `
import json, sys, numpy as np
from PIL import Image
d = sys.argv[1]
out = {}
for c in sys.argv[2:]:
    lab = np.asarray(Image.open(f"{d}/labelsTr/{c}.png"))
    img = np.asarray(Image.open(f"{d}/imagesTr/{c}_0000.png"))
    raw = {a: np.load(f"{d}/raw/{c}_{a}.npy") for a in ("xT", "yT", "x0", "y0")}
    assert all(r.dtype == np.float32 and r.shape == lab.shape for r in raw.values())
    out[c] = {"label": sorted(set(lab.ravel().tolist())), "area": float((lab == 1).mean()), "image": img.ravel().tolist(),
              **{a: r.ravel().tolist() for a, r in raw.items()}}
print(json.dumps(out))
`,
      dir('batch'),
      ...cases,
    );
    const n = 32 * 32;
    cases.forEach((c, i) => {
      expect(got[c].label.every((v) => v === 0 || v === 1)).toBe(true);
      expect(got[c].area).toBeCloseTo(manifest.cases[i].maskAreaFraction, 12);
      expect(got[c].xT).toEqual(Array.from(gaussian(5 + i, Stream.maskStart, n)));
      expect(got[c].yT).toEqual(Array.from(gaussian(5 + i, Stream.imageStart, n)));
      expect(got[c].image).toEqual(Array.from(imageToGray8(Float32Array.from(got[c].y0))));
    });
  });

  it("without --model: the studio's default model (src/core/default-model.ts), not the 32² test pair", async () => {
    const r = await cli('--steps', '1', '--threads', '1', '--out', dir('default-model'));
    ok(r);
    expect(r.stdout).toMatch(new RegExp(`^${DEFAULT_MODEL} 64×64, 1 steps`));
    expect(JSON.parse(readFileSync(join(dir('default-model'), 'manifest.json'), 'utf8')).model.name).toBe(DEFAULT_MODEL);
  });

  it('deterministic per seed: the same command twice gives identical bytes', async () => {
    const again = await cli(...common, '--seed', '5', '--count', '4', '--out', dir('again'));
    ok(again);
    expect(snapshot(dir('again'))).toEqual(await referenceRun());
  });

  it('--resume after a shorter run: the first cases are not recomputed; the folder equals an uninterrupted run', async () => {
    ok(await cli(...common, '--seed', '5', '--count', '2', '--out', dir('resume')));
    const image = join(dir('resume'), 'imagesTr/pig_0000000005_0000.png');
    const before = statSync(image).mtimeMs;
    const r = await cli(...common, '--seed', '5', '--count', '4', '--resume', '--out', dir('resume'));
    ok(r);
    expect(r.stdout).toMatch(/generated 2, skipped 2 complete/);
    expect(r.stdout).not.toMatch(/^seed 5:/m);
    expect(statSync(image).mtimeMs).toBe(before);
    expect(snapshot(dir('resume'))).toEqual(await referenceRun());
  });

  it('--resume after SIGKILL in the middle of a run: no half case is taken as complete; the result equals an uninterrupted run', async () => {
    const long = ['--model', tiny, '--steps', '40', '--threads', '1', '--seed', '20', '--count', '5'];
    const killed = spawn(process.execPath, [...NODE_TSX, ...long, '--out', dir('killed')], { cwd: root });
    await new Promise<void>((resolve) => {
      let text = '';
      killed.stdout.on('data', (b: Buffer) => {
        text += b.toString();
        // killed while the third case is being sampled or written
        if (/^seed 21:/m.test(text) && killed.exitCode === null) killed.kill('SIGKILL');
      });
      killed.on('exit', () => resolve());
    });
    const records = readdirSync(join(dir('killed'), 'cases')).filter((n) => n.endsWith('.json'));
    expect(records.length).toBeGreaterThanOrEqual(2);
    expect(records.length).toBeLessThan(5);
    // and, deterministically, the state a kill between a case's files and its record leaves: the
    // image of the last case written (garbage here) without its record, and a temporary file
    const half = 'pig_0000000024';
    writeFileSync(join(dir('killed'), `imagesTr/${half}_0000.png`), 'half-written');
    writeFileSync(join(dir('killed'), `labelsTr/${half}.png.999-dead.tmp`), 'temp');
    const r = await cli(...long, '--resume', '--out', dir('killed'));
    ok(r);
    expect(r.stdout).toMatch(new RegExp(`skipped ${records.length} complete`));
    ok(await cli(...long, '--out', dir('uninterrupted')));
    expect(snapshot(dir('killed'))).toEqual(snapshot(dir('uninterrupted')));
  });

  it('SIGTERM: the case in hand is finished, the index describes exactly the cases present, exit 143', async () => {
    const args = ['--model', tiny, '--steps', '40', '--threads', '1', '--seed', '30', '--count', '6', '--out', dir('term')];
    const child = spawn(process.execPath, [...NODE_TSX, ...args], { cwd: root });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    let sent = false;
    const code = await new Promise<number | null>((resolve) => {
      let text = '';
      child.stdout.on('data', (b: Buffer) => {
        text += b.toString();
        if (/^seed 30:/m.test(text) && child.signalCode === null && !sent) sent = child.kill('SIGTERM'); // once: a second one stops at once
      });
      child.on('exit', (c) => resolve(c));
    });
    expect(code, stderr).toBe(143);
    expect(stderr).toMatch(/interrupted by SIGTERM after \d of 6 cases; run again with --resume/);
    const records = readdirSync(join(dir('term'), 'cases'))
      .map((n) => n.replace(/\.json$/, ''))
      .sort();
    expect(records.length).toBeLessThan(6);
    const manifest = JSON.parse(readFileSync(join(dir('term'), 'manifest.json'), 'utf8'));
    expect(manifest.cases.map((c: { case: string }) => c.case)).toEqual(records);
    expect(JSON.parse(readFileSync(join(dir('term'), 'dataset.json'), 'utf8')).numTraining).toBe(records.length);
  });

  it('shards 0/2 and 1/2, run at once into one folder, give the unsharded run byte for byte', async () => {
    const [a, b] = await Promise.all([
      cli(...common, '--seed', '5', '--count', '4', '--shard', '0/2', '--out', dir('shards')),
      cli(...common, '--seed', '5', '--count', '4', '--shard', '1/2', '--out', dir('shards')),
    ]);
    ok(a);
    ok(b);
    expect(a.stdout).toMatch(/^seed 6:/m);
    expect(b.stdout).toMatch(/^seed 8:/m);
    expect(snapshot(dir('shards'))).toEqual(await referenceRun());
  });

  it('a folder made with other settings is refused: only what differs, one line each, and what to do', async () => {
    const r = await cli(...common.slice(0, 2), '--steps', '2', '--seed', '9', '--out', dir('reference'));
    await referenceRun();
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^generate: bad output folder: --out .*reference holds cases of model "tiny" made with other settings than this run's \(e\.g\. pig_0000000005\):$/,
      ),
      '  steps: 3 in the folder, 2 asked',
      '  run with --steps 3 to add to this folder, or use another --out folder for the new settings',
    ]);
  });

  it('--clip both: recorded per case; it changes the pair; a folder made with another clip is refused; a bad value named', async () => {
    const r = await cli(...common, '--seed', '5', '--count', '1', '--clip', 'both', '--out', dir('clip'));
    ok(r);
    expect(r.stdout).toMatch(/, clip both, 1 cases → /);
    const manifest = JSON.parse(readFileSync(join(dir('clip'), 'manifest.json'), 'utf8'));
    expect(manifest.cases[0]).toMatchObject({ seed: 5, eta: 0, clip: 'both' });
    const image = 'imagesTr/pig_0000000005_0000.png';
    expect(snapshot(dir('clip'))[image]).not.toBe((await referenceRun())[image]);
    const into = await cli(...common, '--seed', '9', '--clip', 'both', '--out', dir('reference'));
    expect(into.code).toBe(1);
    expect(into.stderr.trim().split('\n').slice(1)).toEqual([
      '  clip: none in the folder, both asked',
      '  run with --clip none to add to this folder, or use another --out folder for the new settings',
    ]);
    const bad = await cli(...common, '--clip', 'all', '--out', dir('unused'));
    expect([bad.code, bad.stderr.trim()]).toEqual([2, 'generate: --clip must be none, image, both, got "all" (--help lists the options)']);
  });

  it('--format nifti: .nii.gz images and labels, file_ending ".nii.gz"; a png run into that folder is refused', async () => {
    ok(await cli(...common, '--seed', '5', '--count', '1', '--format', 'nifti', '--out', dir('nifti')));
    expect(Object.keys(snapshot(dir('nifti'))).sort()).toEqual(
      [
        ...DOCS,
        'cases/pig_0000000005.json',
        'README.md',
        'dataset.json',
        'imagesTr/pig_0000000005_0000.nii.gz',
        'labelsTr/pig_0000000005.nii.gz',
        'manifest.json',
      ].sort(),
    );
    expect(JSON.parse(readFileSync(join(dir('nifti'), 'dataset.json'), 'utf8')).file_ending).toBe('.nii.gz');
    const png = await cli(...common, '--seed', '6', '--count', '1', '--out', dir('nifti'));
    expect(png.code).toBe(1);
    expect(png.stderr).toContain('\n  format: nifti in the folder, png asked\n  run with --format nifti to add');
    // --count 0 only rebuilds the index, from the cases present (after a crash, say)
    rmSync(join(dir('nifti'), 'dataset.json'));
    ok(await cli('--model', tiny, '--count', '0', '--out', dir('nifti')));
    expect(JSON.parse(readFileSync(join(dir('nifti'), 'dataset.json'), 'utf8'))).toMatchObject({ numTraining: 1, file_ending: '.nii.gz' });
  });

  it('--dataset-id / --dataset-name: the dataset goes to <out>/DatasetNNN_Name (default 501, the model’s name); a bad id is named', async () => {
    ok(await cli(...common, '--seed', '5', '--count', '1', '--dataset-id', '42', '--out', dir('raw-a')));
    expect(readdirSync(dir('raw-a'))).toEqual(['Dataset042_tiny']);
    expect(Object.keys(snapshot(join(dir('raw-a'), 'Dataset042_tiny'))).sort()).toEqual(
      [
        ...DOCS,
        'cases/pig_0000000005.json',
        'README.md',
        'dataset.json',
        'imagesTr/pig_0000000005_0000.png',
        'labelsTr/pig_0000000005.png',
        'manifest.json',
      ].sort(),
    );
    ok(await cli(...common, '--seed', '5', '--count', '1', '--dataset-name', 'My lesions', '--out', dir('raw-b')));
    expect(readdirSync(dir('raw-b'))).toEqual(['Dataset501_My-lesions']);
    // the same cases as a plain --out run, byte for byte
    expect(snapshot(join(dir('raw-b'), 'Dataset501_My-lesions'))).toEqual(snapshot(join(dir('raw-a'), 'Dataset042_tiny')));
    const bad = await cli(...common, '--dataset-id', '1000', '--out', dir('unused'));
    expect([bad.code, bad.stderr.trim()]).toEqual([2, 'generate: --dataset-id must be a whole number in 1 … 999, got "1000" (--help lists the options)']);
  });

  describe('--mode mask2image: model_y alone on a folder of mask PNGs', () => {
    // 32×32 0/255 (the model's size: the label must be the input itself), 45×30 gray 0/1 (resized:
    // compared with the kit's loader), and an RGB mask with antialiased levels (thresholded)
    const masks = dir('masks');
    const writePng = (name: string, width: number, height: number, colorType: 0 | 2, f: (x: number, y: number) => number) => {
      const png = new PNG({ width, height });
      for (let y = 0; y < height; y++)
        for (let x = 0; x < width; x++)
          png.data.fill(f(x, y), 4 * (y * width + x), 4 * (y * width + x) + 3).fill(255, 4 * (y * width + x) + 3, 4 * (y * width + x) + 4);
      writeFileSync(join(masks, name), PNG.sync.write(png, { colorType, inputColorType: 6 }));
    };
    const square = (x: number, y: number) => (x >= 8 && x < 20 && y >= 10 && y < 24 ? 255 : 0);
    mkdirSync(masks, { recursive: true });
    writePng('exact.png', 32, 32, 0, square);
    writePng('small lesion.png', 45, 30, 0, (x, y) => ((x - 20) ** 2 / 100 + (y - 15) ** 2 / 49 <= 1 ? 1 : 0));
    writePng('soft.png', 40, 40, 2, (x, y) => Math.max(0, Math.min(255, 255 - 12 * Math.hypot(x - 18, y - 22) + 120)));
    const m2i = (out: string, ...more: string[]) =>
      cli(...common, '--mode', 'mask2image', '--masks', masks, '--seed', '3', '--count', '2', '--out', out, ...more);
    const cases = ['exact', 'small-lesion', 'soft'].flatMap((m) => [3, 4].map((s) => `${m}_000000000${s}`));

    it('one case per mask and seed, named after the mask; the label is the thresholded input; deterministic', async () => {
      const [a, b] = [await m2i(dir('m2i-a')), await m2i(dir('m2i-b'))];
      ok(a);
      ok(b);
      expect(a.stdout).toMatch(/^mask small lesion\.png: resized 45×30 → 32×32 .*lesion = gray level 1, area-averaged/m);
      expect(a.stdout).toMatch(/^mask soft\.png: .*thresholded at 50% luminance/m);
      expect(a.stdout).toMatch(/^seed 3: [\d.]+ ms, [\d.]+ ms\/step → exact_0000000003$/m);
      const files = snapshot(dir('m2i-a'));
      expect(Object.keys(files).sort()).toEqual(
        [
          'dataset.json',
          'manifest.json',
          'README.md',
          ...DOCS,
          ...cases.flatMap((c) => [`cases/${c}.json`, `imagesTr/${c}_0000.png`, `labelsTr/${c}.png`]),
        ].sort(),
      );
      expect(snapshot(dir('m2i-b'))).toEqual(files);
      const manifest = JSON.parse(readFileSync(join(dir('m2i-a'), 'manifest.json'), 'utf8'));
      const sha = createHash('sha256')
        .update(readFileSync(join(masks, 'small lesion.png')))
        .digest('hex');
      expect(manifest.cases.find((c: { case: string }) => c.case === 'small-lesion_0000000004')).toMatchObject({
        seed: 4,
        mode: 'maskToImage',
        source: { file: 'small lesion.png', sha256: sha },
      });
      // the same seed and mask, another image: seeds 3 and 4 differ; the label is the mask for both
      expect(files['imagesTr/exact_0000000003_0000.png']).not.toEqual(files['imagesTr/exact_0000000004_0000.png']);
      const label = (c: string) => PNG.sync.read(readFileSync(join(dir('m2i-a'), 'labelsTr', `${c}.png`)));
      const exact = label('exact_0000000003');
      for (let i = 0; i < 32 * 32; i++) expect(exact.data[4 * i]).toBe(square(i % 32, Math.floor(i / 32)) ? 1 : 0);
      expect(label('exact_0000000004').data).toEqual(exact.data);
      if (!pythonHas('numpy', 'PIL')) return console.warn('SKIPPED comparing the resized mask with the kit’s loader');
      const kit = runPythonJson<number[]>(
        `import json, sys; sys.path.insert(0, "training"); from pathlib import Path; from pigkit.data import load_mask; print(json.dumps(load_mask(Path(sys.argv[1]), 32).ravel().tolist()))`,
        join(masks, 'small lesion.png'),
      );
      const small = label('small-lesion_0000000003');
      expect(Array.from({ length: 32 * 32 }, (_, i) => (small.data[4 * i] === 1 ? 1 : -1))).toEqual(kit);
    });

    it('bad input: a missing folder, an empty one, a .png that is not one, no --masks; a stray non-PNG file is skipped with a note', async () => {
      const oneLine = (r: CliResult, pattern: RegExp, code = 1) => {
        expect(r.code, r.stderr).toBe(code);
        expect(r.stderr.trim()).toMatch(pattern);
      };
      const run = (folder: string) => cli(...common, '--mode', 'mask2image', '--masks', folder, '--out', dir('m2i-bad'));
      oneLine(await run(dir('no-masks')), /^generate: bad masks: --masks .*no-masks does not exist$/);
      mkdirSync(dir('empty-masks'));
      oneLine(await run(dir('empty-masks')), /^generate: bad masks: --masks .*empty-masks holds no \.png file: put one PNG mask per case in it$/);
      cpSync(masks, dir('mixed-masks'), { recursive: true });
      writeFileSync(join(dir('mixed-masks'), 'notes.txt'), 'x');
      const mixed = await run(dir('mixed-masks'));
      ok(mixed);
      expect(mixed.stdout).toMatch(/^--masks .*mixed-masks: skipped an entry that is not a \.png file: "notes\.txt"$/m);
      expect(JSON.parse(readFileSync(join(dir('m2i-bad'), 'dataset.json'), 'utf8')).numTraining).toBe(3);
      mkdirSync(dir('text-only'));
      writeFileSync(join(dir('text-only'), 'notes.txt'), 'x');
      oneLine(
        await run(dir('text-only')),
        /^generate: bad masks: --masks .*text-only holds no \.png file \(only 1 other entry\): put one PNG mask per case in it$/,
      );
      mkdirSync(dir('fake-masks'));
      writeFileSync(join(dir('fake-masks'), 'a.png'), '\xff\xd8\xff\xe0 a JPEG');
      oneLine(await run(dir('fake-masks')), /^generate: bad masks: .*fake-masks\/a\.png is not a PNG file \(no PNG signature\); --masks takes PNG masks only$/);
      mkdirSync(dir('black-masks'));
      writeFileSync(join(dir('black-masks'), 'black.png'), PNG.sync.write(new PNG({ width: 8, height: 8, fill: true })));
      oneLine(await run(dir('black-masks')), /^generate: bad masks: .*black\.png: The mask is empty: it has no lesion pixel/);
      oneLine(
        await cli(...common, '--mode', 'mask2image', '--out', dir('m2i-bad')),
        /^generate: --mode mask2image needs --masks <folder of mask PNGs> \(--help lists the options\)$/,
        2,
      );
    });

    it('a folder with several bad masks is refused file by file: every one named in one error, nothing generated', async () => {
      const bad = dir('many-bad-masks');
      cpSync(masks, bad, { recursive: true });
      writeFileSync(join(bad, 'notes.txt'), 'x');
      mkdirSync(join(bad, 'old'));
      writeFileSync(join(bad, 'a.png'), '\xff\xd8\xff\xe0 a JPEG');
      writeFileSync(join(bad, 'black.png'), PNG.sync.write(new PNG({ width: 8, height: 8, fill: true })));
      const png = readFileSync(join(masks, 'exact.png'));
      writeFileSync(join(bad, 'cut.png'), png.subarray(0, png.length - 20)); // truncated: no IEND, short IDAT
      const r = await cli(...common, '--mode', 'mask2image', '--masks', bad, '--out', dir('m2i-many-bad'));
      expect(r.code, r.stderr).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines[0]).toMatch(/^generate: bad masks: --masks .*many-bad-masks: 3 problems, nothing was generated; fix or remove these files and run again:$/);
      // the stray entries are only noted (stdout); the PNGs that are not usable masks are refused
      expect(r.stdout).toMatch(/^--masks .*many-bad-masks: skipped 2 entries that are not a \.png file: "notes\.txt", "old" \(a folder\)$/m);
      expect(lines.slice(1)).toEqual([
        expect.stringMatching(/^ {2}.*many-bad-masks\/a\.png is not a PNG file \(no PNG signature\)/),
        expect.stringMatching(/^ {2}.*many-bad-masks\/black\.png: The mask is empty/),
        expect.stringMatching(/^ {2}.*many-bad-masks\/cut\.png is not a readable PNG/),
      ]);
      expect(existsSync(join(dir('m2i-many-bad'), 'manifest.json'))).toBe(false);
    });
  });

  describe('clear one-line messages', () => {
    const oneLine = (r: CliResult, pattern: RegExp, code = 1) => {
      expect(r.code).toBe(code);
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(pattern);
    };
    const model = (name: string, edit: (d: string) => void) => {
      const d = dir(`model-${name}`);
      cpSync(tiny, d, { recursive: true });
      edit(d);
      return d;
    };

    it('bad model folders: missing, a file, missing ONNX, corrupt ONNX, bad manifest', async () => {
      const out = ['--out', dir('unused')];
      oneLine(await cli('--model', dir('nowhere'), ...out), /^generate: bad model folder: --model .*nowhere does not exist$/);
      oneLine(await cli('--model', join(tiny, 'manifest.json'), ...out), /^generate: bad model folder: --model .*manifest\.json is a file, not a folder$/);
      const missing = model('missing', (d) => rmSync(join(d, 'image.onnx')));
      oneLine(await cli('--model', missing, ...out), /^generate: bad model folder: cannot read .*model-missing\/image\.onnx: ENOENT/);
      const corrupt = model('corrupt', (d) => {
        const b = readFileSync(join(d, 'mask.onnx'));
        b[b.length >> 1] ^= 0xff;
        writeFileSync(join(d, 'mask.onnx'), b);
      });
      oneLine(
        await cli('--model', corrupt, ...out),
        /^generate: bad model folder: .*mask\.onnx \(mask model\) has SHA-256 [0-9a-f]{64}, the manifest says [0-9a-f]{64}: the file is corrupt/,
      );
      const manifest = model('manifest', (d) => {
        const m = JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8'));
        delete m.models.mask.sha256;
        m.resolution = [32];
        writeFileSync(join(d, 'manifest.json'), JSON.stringify(m));
      });
      oneLine(
        await cli('--model', manifest, ...out),
        /^generate: bad model folder: .*manifest\.json: invalid manifest:; manifest\.resolution must be an array of 2 integers from 1 to 4096.*; manifest\.models\.mask\.sha256 is missing/,
      );
    });

    it('bad output folders: a file, under a file, not writable; bad arguments', async () => {
      const file = dir('a-file');
      writeFileSync(file, 'x');
      oneLine(await cli(...common, '--out', file), /^generate: bad output folder: --out .*a-file is a file, not a folder$/);
      oneLine(
        await cli(...common, '--out', join(file, 'sub')),
        /^generate: bad output folder: --out .*a-file\/sub: a part of the path is a file, not a folder$/,
      );
      // not writable: a read-only folder for a normal user; root writes anywhere, but not into /sys
      let readOnly = dir('read-only');
      if (process.getuid?.() === 0) readOnly = '/sys/pig-cli-test';
      else {
        mkdirSync(readOnly);
        await import('node:fs').then((fs) => fs.chmodSync(readOnly, 0o500));
      }
      oneLine(await cli(...common, '--out', readOnly), /^generate: bad output folder: --out .* is not writable \((EACCES|EPERM|EROFS)\)$/);
      oneLine(await cli(...common, '--shard', '2/2', '--out', dir('unused')), /^generate: --shard 2\/2: i must be in 0 … 1 .*\(--help lists the options\)$/, 2);
      oneLine(await cli(...common, '--frobnicate', '--out', dir('unused')), /^generate: unknown option --frobnicate \(--help lists the options\)$/, 2);
    });

    it('command-line mistakes: one plain line each (no parseArgs internals), the nearest option for a typo; --version', async () => {
      const out = ['--out', dir('unused')];
      oneLine(await cli(...common, '--count', '-1', ...out), /^generate: --count must be a whole number in 0 … \d+, got "-1" \(--help lists the options\)$/, 2);
      oneLine(await cli(...common, '--seed', '-5', ...out), /^generate: --seed must be a whole number in 0 … \d+, got "-5" \(--help lists the options\)$/, 2);
      oneLine(await cli(...common, ...out, '--count'), /^generate: --count needs a value \(--help lists the options\)$/, 2);
      oneLine(await cli(...common, '--cuont', '3', ...out), /^generate: unknown option --cuont; did you mean --count\? \(--help lists the options\)$/, 2);
      const version = await cli('--version');
      expect(version.code).toBe(0);
      expect(version.stdout).toBe(`pig-generate ${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version}\n`);
      // --help prints its lines as lines (the escaping of untrusted names once turned them into a literal \x0a)
      const help = await cli('--help');
      expect(help.code).toBe(0);
      expect(help.stdout).not.toContain('\\x0a');
      expect(help.stdout.split('\n')[0]).toMatch(/^usage: pig-generate \[--model <dir>\]/);
      expect(help.stdout.split('\n').length).toBeGreaterThan(20);
    });
  });
});
