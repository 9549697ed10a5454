// The CLI's dataset features of [17] (docs/cli-datasets.md): image → mask from a folder of images,
// --reject-empty with bounded retries, the dataset card README.md, provenance tEXt chunks in the
// PNGs (pixels and IDAT stream unchanged), the --preview contact sheet, $nnUNet_raw with
// --dataset-id and the default --out kept out of git. On the tiny pair, few steps, one thread.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { imageFromPixels } from '../core/condition';
import { encodeImagePng, encodeLabelPng, imageToGray8 } from '../core/png';
import { runSampler } from '../core/sampler';
import { loadPairFromDir } from '../engine/node';
import { type CliResult, cli, present, root, snapshot, tiny } from '../testing/cli';
import { pythonHas, runPythonJson } from '../testing/python';

const ok = (r: CliResult) => expect(r.code, r.stderr).toBe(0);
const common = ['--model', tiny, '--steps', '3', '--threads', '1'];
const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

/** The chunks of a PNG file: type and data. */
function chunks(bytes: Uint8Array): { type: string; data: Buffer }[] {
  const b = Buffer.from(bytes);
  const out = [];
  for (let o = 8; o < b.length; ) {
    const len = b.readUInt32BE(o);
    out.push({ type: b.toString('latin1', o + 4, o + 8), data: b.subarray(o + 8, o + 8 + len) });
    o += 12 + len;
  }
  return out;
}
const idat = (bytes: Uint8Array) =>
  Buffer.concat(
    chunks(bytes)
      .filter((c) => c.type === 'IDAT')
      .map((c) => c.data),
  );

/** The CLI as a user runs it from `cwd` with `env` (bin/pig-generate.mjs registers tsx itself). */
function cliIn(cwd: string, env: Record<string, string | undefined>, ...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(root, 'bin/pig-generate.mjs'), ...args],
      { cwd, env: { ...process.env, ...env }, encoding: 'utf8' },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/**
 * A copy of the tiny pair whose B(·) weights make empty masks: without the step graphs (whose B(·)
 * is baked in) the plain U-Nets run with core's binarize and these weights. θ = 2·max + 0.6·min of
 * the pooled x̂₀ leaves seeds 0, 2, 3, 4 empty and 1, 5 not at 3 steps (measured); θ = 1.02·max
 * leaves every mask empty.
 */
function emptyingModel(dir: string, weights: [number, number]): string {
  cpSync(tiny, dir, { recursive: true });
  const manifest = json(join(dir, 'manifest.json'));
  delete manifest.models.maskStep;
  delete manifest.models.imageStep;
  manifest.sampler.binarize.weights = weights;
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

describe.skipIf(!present)('generate CLI: datasets ([17] items 2, 6, 7)', () => {
  const work = mkdtempSync(join(tmpdir(), 'pig-cli-data-'));
  const dir = (name: string) => join(work, name);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('--mode image2mask --images: the studio’s image → mask (core imageFromPixels + the sampler’s imageToMask); a stray file skipped with a note', async () => {
    const images = dir('images');
    mkdirSync(join(images, 'old'), { recursive: true });
    // a 40×30 gradient with a dark blob: resized bilinearly to 32×32 as the studio does
    const [w, h] = [40, 30];
    const gray = Uint8Array.from({ length: w * h }, (_, i) => {
      const [x, y] = [i % w, Math.floor(i / w)];
      return Math.hypot(x - 22, y - 14) < 7 ? 30 : 90 + ((x * 3 + y * 2) % 120);
    });
    const png = new PNG({ width: w, height: h, colorType: 0 });
    for (let i = 0; i < w * h; i++) png.data.fill(gray[i], 4 * i, 4 * i + 3).fill(255, 4 * i + 3, 4 * i + 4);
    writeFileSync(join(images, 'scan 1.png'), PNG.sync.write(png, { colorType: 0, inputColorType: 6 }));
    writeFileSync(join(images, 'notes.txt'), 'x');
    const r = await cli(...common, '--mode', 'image2mask', '--images', images, '--seed', '2', '--count', '2', '--out', dir('i2m'));
    ok(r);
    expect(r.stdout).toMatch(/^--images .*images: skipped 2 entries that are not a \.png file: "notes\.txt", "old" \(a folder\)$/m);
    expect(r.stdout).toMatch(/^image scan 1\.png: resized 40×30 → 32×32 .*scaled to \[−1, 1\]$/m);
    const cases = ['scan-1_0000000002', 'scan-1_0000000003'];
    const manifest = json(join(dir('i2m'), 'manifest.json'));
    expect(manifest.cases.map((c: { case: string; mode: string; source: { file: string } }) => [c.case, c.mode, c.source.file])).toEqual(
      cases.map((c) => [c, 'imageToMask', 'scan 1.png']),
    );
    // in-process, the studio's path: the worker hands runSampler { kind: 'imageToMask', image } from imageFromPixels
    const condition = imageFromPixels({ width: w, height: h, channels: 1, bitDepth: 8, data: gray }, [32, 32]);
    const pair = await loadPairFromDir(tiny, { intraOpNumThreads: 1 });
    try {
      for (const [k, c] of cases.entries()) {
        const result = await runSampler(
          {
            executor: pair.executors,
            schedule: pair.schedule,
            height: 32,
            width: 32,
            steps: 3,
            seed: 2 + k,
            eta: pair.manifest.sampler.eta,
            clip: pair.manifest.sampler.clip ?? 'none',
            binarize: pair.manifest.sampler.binarize,
            mode: { kind: 'imageToMask', image: condition.image },
          },
          () => undefined,
        );
        const label = PNG.sync.read(readFileSync(join(dir('i2m'), 'labelsTr', `${c}.png`)));
        expect(Array.from({ length: 1024 }, (_, i) => label.data[4 * i])).toEqual(Array.from(result.mask, (v) => (v > 0 ? 1 : 0)));
        const image = PNG.sync.read(readFileSync(join(dir('i2m'), 'imagesTr', `${c}_0000.png`)));
        expect(Uint8Array.from({ length: 1024 }, (_, i) => image.data[4 * i])).toEqual(imageToGray8(condition.image));
      }
    } finally {
      await pair.release();
    }
    // the seeds give other masks for the same image
    const files = snapshot(dir('i2m'));
    expect(files[`labelsTr/${cases[0]}.png`]).not.toEqual(files[`labelsTr/${cases[1]}.png`]);
    // a pair run into that folder: only the mode differs
    const pairInto = await cli(...common, '--seed', '2', '--out', dir('i2m'));
    expect(pairInto.stderr.trim().split('\n').slice(1, 2)).toEqual(['  mode: image2mask in the folder, pair asked']);
    // a truncated .png is still refused, naming it; --images needs image2mask and vice versa
    const png2 = readFileSync(join(images, 'scan 1.png'));
    writeFileSync(join(images, 'cut.png'), png2.subarray(0, png2.length - 20));
    const cut = await cli(...common, '--mode', 'image2mask', '--images', images, '--out', dir('i2m-cut'));
    expect([cut.code, cut.stderr.trim()]).toEqual([1, expect.stringMatching(/^generate: bad images: .*images\/cut\.png is not a readable PNG: .+$/)]);
    const need = await cli(...common, '--mode', 'image2mask', '--out', dir('unused'));
    expect([need.code, need.stderr.trim()]).toEqual([2, 'generate: --mode image2mask needs --images <folder of image PNGs> (--help lists the options)']);
    const wrong = await cli(...common, '--images', images, '--out', dir('unused'));
    expect([wrong.code, wrong.stderr.trim()]).toEqual([
      2,
      'generate: --images is for --mode image2mask; pair mode generates its own images (--help lists the options)',
    ]);
  });

  it('--reject-empty: an empty mask tries seed + N, + 2N, …; the tried seeds recorded; shards and --resume agree; bounded', async () => {
    const model = emptyingModel(dir('emptying'), [2, 0.6]);
    const run = (out: string, ...more: string[]) =>
      cli('--model', model, '--steps', '3', '--threads', '1', '--seed', '0', '--count', '3', '--out', out, ...more);
    // without it: seeds 0 and 2 are empty (measured)
    const plain = await run(dir('rej-plain'));
    ok(plain);
    expect(json(join(dir('rej-plain'), 'manifest.json')).cases.map((c: { empty: boolean }) => c.empty)).toEqual([true, false, true]);
    const r = await run(dir('rej'), '--reject-empty');
    ok(r);
    expect(r.stdout).toMatch(/^seed 0: [\d.]+ ms, [\d.]+ ms\/step → empty mask, rejected$/m);
    const cases = json(join(dir('rej'), 'manifest.json')).cases as { case: string; seed: number; empty: boolean; rejectedSeeds: number[] }[];
    // slot 0: 0, 3, 6, 9, 12 empty, 15 kept; slot 1: 1 kept; slot 2: 2 empty, 5 kept
    expect(cases.map((c) => [c.case, c.empty, c.rejectedSeeds])).toEqual([
      ['pig_0000000001', false, []],
      ['pig_0000000005', false, [2]],
      ['pig_0000000015', false, [0, 3, 6, 9, 12]],
    ]);
    expect(r.stdout).toMatch(/^generated 3, skipped 0 complete, rejected 6 empty masks, /m);
    // shards 1/2 and 0/2 into one folder, then --resume: the same bytes, nothing made again
    ok(await run(dir('rej-shards'), '--reject-empty', '--shard', '1/2'));
    ok(await run(dir('rej-shards'), '--reject-empty', '--shard', '0/2'));
    expect(snapshot(dir('rej-shards'))).toEqual(snapshot(dir('rej')));
    const again = await run(dir('rej'), '--reject-empty', '--resume');
    ok(again);
    expect(again.stdout).toMatch(/^generated 0, skipped 3 complete, rejected 0 empty masks; /m);
    // the card counts what was rejected, from the records
    expect(readFileSync(join(dir('rej'), 'README.md'), 'utf8')).toContain(
      '| empty masks rejected (--reject-empty) | 6 tried and not kept, for 3 cases made with it |',
    );
    // one folder, one rule
    const mixed = await run(dir('rej-plain'), '--reject-empty');
    expect([mixed.code, mixed.stderr.trim().split('\n').slice(1)]).toEqual([
      1,
      ['  reject-empty: off in the folder, on asked', '  run without --reject-empty to add to this folder, or use another --out folder for the new settings'],
    ]);
    // a model that only makes empty masks: 11 seeds each, then the case is reported missing (no endless loop)
    const never = emptyingModel(dir('never'), [1.02, 0]);
    const bounded = await cli('--model', never, '--steps', '2', '--threads', '1', '--count', '2', '--reject-empty', '--out', dir('rej-never'));
    ok(bounded);
    expect(bounded.stdout).toMatch(/^generated 0, skipped 0 complete, rejected 22 empty masks, /m);
    expect(bounded.stderr).toMatch(
      /^generate: pig_0000000000: all 11 seeds tried gave an empty mask \(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20\); no case kept for it$/m,
    );
    expect(bounded.stderr).toMatch(/^generate: 2 cases \(pig_0000000000, pig_0000000001\) gave only empty masks in 11 seeds each and are missing; .+$/m);
    const past = await cli(...common, '--seed', '4294967290', '--count', '3', '--reject-empty', '--out', dir('unused'));
    expect([past.code, past.stderr.trim()]).toEqual([
      2,
      "generate: --reject-empty may try seeds up to 4294967322 (each case's seed + up to 10 × --count), past 4294967295; use a lower --seed or --count (--help lists the options)",
    ]);
  });

  it('README.md, the dataset card: synthetic, model hashes, settings, counts, areas, licence, citation; the same after shards; PNG tEXt read by PIL, pixels and IDAT unchanged', async () => {
    ok(await cli(...common, '--seed', '3', '--count', '4', '--out', dir('card')));
    const out = dir('card');
    const card = readFileSync(join(out, 'README.md'), 'utf8');
    const model = json(join(tiny, 'manifest.json'));
    const cases = json(join(out, 'manifest.json')).cases as { maskAreaFraction: number; empty: boolean }[];
    expect(card).toMatch(/^---\npretty_name: "PIG synthetic pairs \(tiny\)"\n/);
    expect(card).toContain('**Synthetic data.**');
    expect(card).toContain('| cases | 4 |');
    expect(card).toContain(`| empty masks (no lesion pixel) | 0 (0.00 %) |`);
    const areas = cases.map((c) => c.maskAreaFraction).sort((a, b) => a - b);
    const pct = (f: number) => `${(f * 100).toFixed(2)} %`;
    // the median of 4 is the mean of the middle two (numpy's linear interpolation)
    expect(card).toContain(`| lesion area, min / median / max | ${pct(areas[0])} / ${pct((areas[1] + areas[2]) / 2)} / ${pct(areas[3])} |`);
    expect(card).toContain('| seeds | 3 … 6 |');
    expect(card).toContain('| DDIM steps | 3 (4) |');
    for (const role of ['mask', 'image']) expect(card).toContain(`| ${role} | ${model.models[role].file} | \`${model.models[role].sha256}\` |`);
    expect(card).toContain(model.card.license);
    expect(card).toContain(`The data the model was trained on: ${model.card.citation}`);
    // shards write the same card (it is made from the records, like dataset.json)
    ok(await cli(...common, '--seed', '3', '--count', '4', '--shard', '1/2', '--out', dir('card-shards')));
    ok(await cli(...common, '--seed', '3', '--count', '4', '--shard', '0/2', '--out', dir('card-shards')));
    expect(readFileSync(join(dir('card-shards'), 'README.md'), 'utf8')).toBe(card);

    // tEXt: model hashes, seed, steps, mode; the pixels (and the compressed IDAT stream) those of the plain encoding
    const c = 'pig_0000000004';
    const image = readFileSync(join(out, 'imagesTr', `${c}_0000.png`));
    const label = readFileSync(join(out, 'labelsTr', `${c}.png`));
    const types = chunks(image).map((k) => k.type);
    expect(types[0]).toBe('IHDR');
    expect(types.slice(-2)).toEqual(['IDAT', 'IEND']);
    const decoded = PNG.sync.read(image);
    const gray = Float32Array.from({ length: 1024 }, (_, i) => decoded.data[4 * i] / 127.5 - 1);
    const plain = await encodeImagePng(gray, 32, 32);
    expect(idat(image)).toEqual(idat(plain));
    expect(PNG.sync.read(Buffer.from(plain)).data).toEqual(decoded.data);
    const labelPixels = PNG.sync.read(label);
    const plainLabel = await encodeLabelPng(
      Uint8Array.from({ length: 1024 }, (_, i) => labelPixels.data[4 * i]),
      32,
      32,
    );
    expect(idat(label)).toEqual(idat(plainLabel));
    if (!pythonHas('PIL')) return console.warn('SKIPPED reading the tEXt chunks with PIL');
    const text = runPythonJson<Record<string, string>>(
      'import json, sys; from PIL import Image; print(json.dumps([Image.open(p).text for p in sys.argv[1:]]))',
      join(out, 'imagesTr', `${c}_0000.png`),
      join(out, 'labelsTr', `${c}.png`),
    ) as unknown as Record<string, string>[];
    const version = json(join(root, 'package.json')).version;
    for (const t of text)
      expect(t).toMatchObject({
        Software: `PIG Studio ${version}`,
        'pig:case': c,
        'pig:model': 'tiny',
        'pig:sha256:mask': model.models.mask.sha256,
        'pig:sha256:image': model.models.image.sha256,
        'pig:seed': '4',
        'pig:steps': '3',
        'pig:mode': 'pair',
      });
  });

  it('--preview: preview.png, the first cases’ mask beside image; kept up to date by a later run', async () => {
    const out = dir('preview');
    ok(await cli(...common, '--count', '5', '--preview', '--out', out));
    const sheet = PNG.sync.read(readFileSync(join(out, 'preview.png')));
    // 4 pairs a row (2·32 + 2 wide, 6 apart), 2 rows
    expect([sheet.width, sheet.height]).toEqual([4 * 66 + 5 * 6, 2 * 32 + 3 * 6]);
    const at = (x: number, y: number) => sheet.data[4 * (y * sheet.width + x)];
    const label = PNG.sync.read(readFileSync(join(out, 'labelsTr', 'pig_0000000004.png')));
    const image = PNG.sync.read(readFileSync(join(out, 'imagesTr', 'pig_0000000004_0000.png')));
    // case 4 is the first of the second row
    for (let i = 0; i < 1024; i++) {
      const [x, y] = [i % 32, Math.floor(i / 32)];
      expect(at(6 + x, 44 + y)).toBe(label.data[4 * i] ? 255 : 0);
      expect(at(6 + 34 + x, 44 + y)).toBe(image.data[4 * i]);
    }
    // a resumed run without --preview keeps it current (6 pairs now: the second row has 2)
    const before = readFileSync(join(out, 'preview.png'));
    ok(await cli(...common, '--count', '6', '--resume', '--out', out));
    expect(readFileSync(join(out, 'preview.png'))).not.toEqual(before);
  });

  it('$nnUNet_raw: without --out the dataset goes to $nnUNet_raw/DatasetNNN_<name>; an id another dataset has is refused; the default --out is kept out of git', async () => {
    const raw = dir('nnUNet_raw');
    mkdirSync(join(raw, 'Dataset502_busi'), { recursive: true });
    const env = { nnUNet_raw: raw };
    ok(await cliIn(work, env, ...common, '--count', '1'));
    ok(await cliIn(work, env, ...common, '--count', '1', '--dataset-id', '7'));
    expect(readdirSync(raw).sort()).toEqual(['Dataset007_tiny', 'Dataset501_tiny', 'Dataset502_busi']);
    expect(existsSync(join(raw, 'Dataset501_tiny', 'imagesTr', 'pig_0000000000_0000.png'))).toBe(true);
    const taken = await cliIn(work, env, ...common, '--dataset-id', '502');
    expect([taken.code, taken.stderr.trim()]).toEqual([
      1,
      `generate: bad output folder: $nnUNet_raw (${raw}) already holds Dataset502_busi with the id 502; nnU-Net finds a dataset by its id, so Dataset502_tiny beside it would be confused with it: choose a free --dataset-id (503 is), or --dataset-name busi to add to that dataset`,
    ]);
    expect(readdirSync(join(raw, 'Dataset502_busi'))).toEqual([]);
    // the id check holds for an explicit --out too; --out wins over $nnUNet_raw
    const explicit = await cliIn(work, env, ...common, '--dataset-id', '7', '--dataset-name', 'other', '--out', raw);
    expect(explicit.stderr.trim()).toMatch(
      /^generate: bad output folder: --out .* already holds Dataset007_tiny with the id 7; .* choose a free --dataset-id \(8 is\)/,
    );
    ok(await cliIn(work, env, ...common, '--out', dir('plain')));
    expect(existsSync(join(dir('plain'), 'dataset.json'))).toBe(true);
    // no --out and no $nnUNet_raw: ./pig-out, with a .gitignore of "*" (git leaves it out)
    const cwd = dir('project');
    mkdirSync(cwd);
    ok(await cliIn(cwd, { nnUNet_raw: undefined }, ...common));
    expect(readFileSync(join(cwd, 'pig-out', '.gitignore'), 'utf8')).toMatch(/\n\*\n$/);
    expect(existsSync(join(cwd, 'pig-out', 'dataset.json'))).toBe(true);
  });
});
