// The batch CLI on a format-2 model (docs/contracts.md §6): tiny-latent (64² slices, a 4-channel
// latent on a 16² grid, attributes pathology / birads / scanner) as a user runs it: the golden
// fixture's run, the records and dataset.json, --balance, and the messages for bad --attr,
// --balance and --guidance (and for a model without attributes). The kit's PigPipeline gives
// the same PNGs bit for bit: training/tests/test_pipeline.py.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { countDiffering, maxAbsDiff } from '../core/golden';
import { imageToGray8 } from '../core/png';
import { type CliResult, cli, root, tiny } from '../testing/cli';

const latent = join(root, 'public/models/tiny-latent');
const fixture = join(root, 'src/core/fixtures/tiny-latent-golden.json');
const ok = (r: CliResult) => expect(r.code, r.stderr).toBe(0);
const common = ['--model', latent, '--threads', '1'];

/** A float32 .npy as the CLI writes it (format 1.0): its shape and values. */
function readNpy(path: string): { shape: number[]; data: Float32Array } {
  const bytes = readFileSync(path);
  const headerLength = bytes.readUInt16LE(8);
  const header = bytes.subarray(10, 10 + headerLength).toString('latin1');
  const shape = (/'shape': \(([^)]*)\)/.exec(header)?.[1] ?? '')
    .split(',')
    .filter((s) => s.trim())
    .map(Number);
  const body = bytes.subarray(10 + headerLength);
  return { shape, data: new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength)) };
}

const png = (path: string) => PNG.sync.read(readFileSync(path));
const gray = (p: PNG) => Uint8Array.from({ length: p.width * p.height }, (_, i) => p.data[4 * i]);

describe('generate CLI on a latent model with attributes (tiny-latent)', () => {
  const work = mkdtempSync(join(tmpdir(), 'pig-cli-latent-'));
  const dir = (name: string) => join(work, name);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('the golden fixture’s run: 64² PNGs, the fixture’s mask exactly, its image within one 8-bit level, the raw arrays on the grid', async () => {
    const fx = JSON.parse(readFileSync(fixture, 'utf8'));
    const attr = Object.entries(fx.attributes as Record<string, string>)
      .filter(([, v]) => v !== 'any')
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const r = await cli(
      ...common,
      '--seed',
      String(fx.seed),
      '--steps',
      String(fx.steps),
      '--attr',
      attr,
      '--guidance',
      String(fx.guidance),
      '--raw',
      '--out',
      dir('golden'),
    );
    ok(r);
    expect(r.stdout).toContain('tiny-latent 64×64 (latent 4×16×16), 4 steps, η=0, clip none, guidance 2, 1 cases');
    const c = `pig_${String(fx.seed).padStart(10, '0')}`;
    const label = png(join(dir('golden'), 'labelsTr', `${c}.png`));
    const image = png(join(dir('golden'), 'imagesTr', `${c}_0000.png`));
    expect([label.width, label.height, image.width, image.height]).toEqual([64, 64, 64, 64]);
    expect(
      countDiffering(
        gray(label),
        Uint8Array.from(fx.mask, (v: number) => (v > 0 ? 1 : 0)),
      ),
    ).toBe(0);
    expect(maxAbsDiff(gray(image), imageToGray8(Float32Array.from(fx.image)))).toBeLessThanOrEqual(1);
    const raw = (a: string) => readNpy(join(dir('golden'), 'raw', `${c}_${a}.npy`));
    expect(raw('xT').shape).toEqual([16, 16]);
    expect(raw('yT').shape).toEqual([4, 16, 16]);
    expect(Array.from(raw('xT').data)).toEqual(fx.xT);
    expect(Array.from(raw('yT').data)).toEqual(fx.zT);
    expect(maxAbsDiff(raw('x0').data, fx.frames.at(-1).x0)).toBeLessThan(2e-3);
    expect(maxAbsDiff(raw('y0').data, fx.frames.at(-1).z0)).toBeLessThan(2e-3);
    // the case record and dataset.json say what was asked for
    const manifest = JSON.parse(readFileSync(join(dir('golden'), 'manifest.json'), 'utf8'));
    expect(manifest.cases[0]).toMatchObject({ attributes: { pathology: 'malignant', birads: 'any', scanner: 'any' }, guidance: 2 });
    expect(Object.keys(manifest.model.files).sort()).toEqual(['decoder', 'encoder', 'image', 'imageWeights', 'mask', 'maskWeights']);
    const dataset = JSON.parse(readFileSync(join(dir('golden'), 'dataset.json'), 'utf8'));
    expect(dataset.description).toContain(
      'Attributes asked for, with the number of cases: pathology malignant (1); birads any (1); scanner any (1); classifier-free guidance w = 2.',
    );
  });

  it('--balance pathology: seed K+i asks for value i mod 2; shards assign the same; another guidance is refused in that folder', async () => {
    const r = await cli(...common, '--steps', '2', '--seed', '10', '--count', '5', '--balance', 'pathology', '--attr', 'birads=4', '--out', dir('balance'));
    ok(r);
    const cases = JSON.parse(readFileSync(join(dir('balance'), 'manifest.json'), 'utf8')).cases;
    expect(cases.map((k: { seed: number; attributes: Record<string, string> }) => [k.seed, k.attributes.pathology, k.attributes.birads])).toEqual([
      [10, 'benign', '4'],
      [11, 'malignant', '4'],
      [12, 'benign', '4'],
      [13, 'malignant', '4'],
      [14, 'benign', '4'],
    ]);
    expect(cases.every((k: { guidance: number }) => k.guidance === 1)).toBe(true);
    const shard = await cli(
      ...common,
      '--steps',
      '2',
      '--seed',
      '10',
      '--count',
      '5',
      '--shard',
      '1/2',
      '--balance',
      'pathology',
      '--attr',
      'birads=4',
      '--out',
      dir('shard'),
    );
    ok(shard);
    const shardCases = JSON.parse(readFileSync(join(dir('shard'), 'manifest.json'), 'utf8')).cases;
    expect(shardCases.map((k: { seed: number; attributes: Record<string, string> }) => [k.seed, k.attributes.pathology])).toEqual([
      [12, 'benign'],
      [13, 'malignant'],
      [14, 'benign'],
    ]);
    const other = await cli(...common, '--steps', '2', '--seed', '20', '--count', '1', '--guidance', '3', '--out', dir('balance'));
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('\n  guidance: 1 in the folder, 3 asked\n  run with --guidance 1 to add to this folder');
  });

  it('mask → image at 64²: the mask is the label, the chains run on its 16² grid', async () => {
    const masks = dir('masks');
    mkdirSync(masks);
    const p = new PNG({ width: 64, height: 64 });
    for (let i = 0; i < 64 * 64; i++) {
      const lesion = (Math.floor(i / 64) - 30) ** 2 + ((i % 64) - 34) ** 2 < 200;
      p.data.set(lesion ? [255, 255, 255, 255] : [0, 0, 0, 255], 4 * i);
    }
    writeFileSync(join(masks, 'disc.png'), PNG.sync.write(p));
    const r = await cli(...common, '--steps', '2', '--mode', 'mask2image', '--masks', masks, '--attr', 'pathology=benign', '--out', dir('m2i'));
    ok(r);
    const label = gray(png(join(dir('m2i'), 'labelsTr', 'disc_0000000000.png')));
    expect(
      countDiffering(
        label,
        Uint8Array.from(gray(p), (v) => (v > 0 ? 1 : 0)),
      ),
    ).toBe(0);
  });

  it('bad --attr, --balance and --guidance are named with what the model has; a model without attributes refuses them', async () => {
    const cases: [string[], string][] = [
      [['--model', latent, '--attr', 'birads=6'], "generate: --attr: birads=6 is not a value of this model's birads: one of 2, 3, 4, 5 (or any)"],
      [['--model', latent, '--attr', 'color=red'], 'generate: --attr: unknown attribute "color": this model has pathology, birads, scanner'],
      [
        ['--model', latent, '--attr', 'pathology'],
        'generate: --attr must be name=value pairs separated by commas (e.g. pathology=malignant,birads=4), got "pathology"',
      ],
      [['--model', latent, '--balance', 'color'], 'generate: --balance color: this model has no attribute color; it has pathology, birads, scanner'],
      [
        ['--model', latent, '--balance', 'pathology', '--attr', 'pathology=benign'],
        'generate: --balance pathology and --attr pathology=benign both set pathology; give one',
      ],
      [['--model', latent, '--guidance', '21'], 'generate: --guidance must be a number from 0 to 20 (1: the conditional model alone, no guidance), got "21"'],
      [['--model', tiny, '--attr', 'pathology=benign'], 'generate: --attr: the model "tiny" takes no attributes (its manifest lists none); leave it out'],
      [
        ['--model', tiny, '--guidance', '2'],
        'generate: --guidance: the model "tiny" takes no attributes (its manifest lists none), so there is nothing to guide; leave it out',
      ],
    ];
    for (const [args, message] of cases) {
      const r = await cli(...args, '--threads', '1', '--out', dir('bad'));
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim()).toBe(`${message} (--help lists the options)`);
    }
  });
});
