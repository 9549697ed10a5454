// What the CLI must never do to a user's files, and how it fails (issue 33): --out on a model folder
// or on someone else's folder, two runs of different settings on one folder, a damaged file taken as
// complete by --resume, model-folder documents that link out or collide with the layout, and the
// crashes (a closed pipe, a huge --count, a huge mask, a full disk) that must be one clear line.
// Each runs the real CLI on the tiny pair (src/testing/cli.ts).
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliResult, cli, NODE_TSX, present, root, snapshot, tiny } from '../testing/cli';

const STEPS = '3';
const common = ['--model', tiny, '--steps', STEPS, '--threads', '1'];
const ok = (r: CliResult) => expect(r.code, r.stderr).toBe(0);
/** One line on stderr, no stack trace, the exit code. */
const oneLine = (r: CliResult, pattern: RegExp, code = 1) => {
  expect(r.code, r.stderr).toBe(code);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
};
const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const records = (dir: string) => (existsSync(join(dir, 'cases')) ? readdirSync(join(dir, 'cases')).filter((n) => n.endsWith('.json')) : []);

describe.skipIf(!present)('generate CLI: data safety', () => {
  const work = mkdtempSync(join(tmpdir(), 'pig-cli-safety-'));
  const dir = (name: string) => join(work, name);
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const model = (name: string, edit: (d: string) => void) => {
    const d = dir(`model-${name}`);
    cpSync(tiny, d, { recursive: true });
    edit(d);
    return d;
  };
  let reference: Promise<Record<string, string>> | undefined;
  const referenceRun = () =>
    (reference ??= cli(...common, '--seed', '5', '--count', '4', '--out', dir('reference')).then((r) => {
      ok(r);
      return snapshot(dir('reference'));
    }));

  it('--out is never the model folder nor inside one (links resolved): refused, the model untouched', async () => {
    const m = model('out', () => undefined);
    const before = snapshot(m);
    oneLine(
      await cli(...common, '--model', m, '--out', m),
      /^generate: bad output folder: --out .*model-out is the model folder; writing there would replace the model's files\. Choose a folder outside it, e\.g\. --out out\/model-out$/,
    );
    oneLine(
      await cli(...common, '--model', m, '--out', join(m, 'generated')),
      /^generate: bad output folder: --out .*model-out\/generated is inside the model folder .*model-out;/,
    );
    symlinkSync(m, dir('link-to-model'));
    oneLine(await cli(...common, '--model', m, '--out', dir('link-to-model')), /is the model folder; writing there would replace/);
    // another model's folder than --model's, with --dataset-id (the dataset folder would be inside it)
    oneLine(await cli(...common, '--dataset-id', '7', '--out', m), /^generate: bad output folder: --out .*model-out is the model folder;/);
    expect(snapshot(m)).toEqual(before);
  });

  it('a non-empty --out that this CLI did not write is refused: someone’s nnU-Net dataset.json is never replaced', async () => {
    const theirs = dir('their-dataset');
    mkdirSync(join(theirs, 'imagesTr'), { recursive: true });
    writeFileSync(join(theirs, 'dataset.json'), '{"name": "theirs"}\n');
    writeFileSync(join(theirs, 'imagesTr', 'case_0000.png'), 'their image');
    const before = snapshot(theirs);
    oneLine(
      await cli(...common, '--out', theirs),
      /^generate: bad output folder: --out .*their-dataset is not empty \(dataset\.json, imagesTr\) and is not a dataset this CLI wrote \(it has no cases\/ folder\); its files would be replaced\. Choose a new or empty folder, or add --dataset-id\/--dataset-name to write a DatasetNNN_Name folder inside it$/,
    );
    expect(snapshot(theirs)).toEqual(before);
    // as nnU-Net's raw folder with --dataset-id: a new DatasetNNN_Name folder beside theirs
    ok(await cli(...common, '--count', '1', '--dataset-id', '502', '--out', theirs));
    expect(readdirSync(theirs).sort()).toEqual(['Dataset502_tiny', 'dataset.json', 'imagesTr']);
    expect(snapshot(theirs)).toMatchObject(before);
    // an empty folder (hidden files aside) and a folder this CLI wrote are fine
    mkdirSync(dir('empty'));
    writeFileSync(join(dir('empty'), '.DS_Store'), 'x');
    ok(await cli(...common, '--count', '1', '--out', dir('empty')));
    ok(await cli(...common, '--count', '2', '--resume', '--out', dir('empty')));
  });

  it('another live run with other settings holds the folder: refused, naming it; a dead run’s lock is stale; the folder is never mixed', async () => {
    const out = dir('locked');
    const lock = join(out, '.pig-generate.lock');
    mkdirSync(lock, { recursive: true });
    const other = {
      pid: process.pid, // this test's process: alive, on this host
      host: hostname(),
      since: '2026-01-01T00:00:00.000Z',
      settings: {
        model: { name: 'other', resolution: [32, 32], modality: 'ultrasound', files: {} },
        steps: 9,
        eta: 0,
        clip: 'none',
        mode: 'pair',
        format: 'png',
      },
    };
    writeFileSync(join(lock, `${hostname()}.${process.pid}.json`), JSON.stringify(other));
    const refused = await cli(...common, '--out', out);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        new RegExp(
          `^generate: bad output folder: --out .*locked is being filled by another run with other settings \\(pid ${process.pid} on .*, since 2026-01-01T00:00:00\\.000Z\\):$`,
        ),
      ),
      '  model: "other" in that run, "tiny" asked',
      '  steps: 9 in that run, 3 asked',
      expect.stringMatching(/^ {2}wait for it to finish or use another --out folder \(if that run is gone, delete .*\.pig-generate\.lock\/.*\.json\)$/),
    ]);
    expect(existsSync(join(out, 'cases'))).toBe(false);
    // the same run, killed (a pid that is not running): stale, removed, the run goes on
    writeFileSync(join(lock, `${hostname()}.${process.pid}.json`), JSON.stringify({ ...other, pid: 2 ** 22 + 1 }));
    ok(await cli(...common, '--count', '1', '--out', out));
    expect(existsSync(lock)).toBe(false);

    // two runs at once, 40 and 39 steps: one is refused (whichever registers second), never both kept
    const slow = (steps: string) => cli('--model', tiny, '--threads', '1', '--steps', steps, '--seed', '10', '--count', '4', '--out', dir('race'));
    const [a, b] = await Promise.all([slow('40'), slow('39')]);
    expect([a.code, b.code], a.stderr + b.stderr).toContain(1);
    expect(a.stderr + b.stderr).toMatch(/is being filled by another run with other settings|holds cases of model "tiny" made with other settings/);
    const steps = new Set(records(dir('race')).map((n) => json(join(dir('race'), 'cases', n)).case.steps));
    expect(steps.size).toBeLessThanOrEqual(1);
  });

  it('--resume checks each file’s size and SHA-256: a truncated or emptied PNG, an empty record are made again; the folder equals an uninterrupted run', async () => {
    const out = dir('damaged');
    ok(await cli(...common, '--seed', '5', '--count', '4', '--out', out));
    const record = json(join(out, 'cases', 'pig_0000000006.json'));
    expect(record.checksums['imagesTr/pig_0000000006_0000.png']).toEqual({ bytes: expect.any(Number), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const image = join(out, 'imagesTr/pig_0000000006_0000.png');
    truncateSync(image, readFileSync(image).length >> 1);
    writeFileSync(join(out, 'labelsTr/pig_0000000008.png'), '');
    writeFileSync(join(out, 'cases/pig_0000000005.json'), ''); // a record a power cut left empty
    const r = await cli(...common, '--seed', '5', '--count', '4', '--resume', '--out', out);
    ok(r);
    expect(r.stdout).toMatch(/generated 3, skipped 1 complete/);
    expect(r.stderr).toMatch(
      /generate: pig_0000000006: imagesTr\/pig_0000000006_0000\.png is not the file its record describes \(\d+ bytes, \d+ recorded\); making it again/,
    );
    expect(r.stderr).toMatch(/generate: pig_0000000008: labelsTr\/pig_0000000008\.png is not the file its record describes \(0 bytes/);
    expect(snapshot(out)).toEqual(await referenceRun());
  });

  it('model-folder documents: a link out of the folder, an oversized one and a reserved name are refused; the copied ones are listed with their SHA-256', async () => {
    const secret = dir('secret-key');
    writeFileSync(secret, 'PRIVATE KEY');
    const linked = model('link', (d) => {
      rmSync(join(d, 'README.md'));
      symlinkSync(secret, join(d, 'README.md'));
    });
    oneLine(
      await cli(...common, '--model', linked, '--out', dir('doc-link')),
      /^generate: bad model folder: .*model-link\/README\.md is a link to a file outside the model folder; put the document itself in the folder$/,
    );
    expect(existsSync(join(dir('doc-link'), 'MODEL-CARD.md'))).toBe(false);
    const big = model('big-doc', (d) => writeFileSync(join(d, 'DATA-LICENSE.txt'), Buffer.alloc((1 << 20) + 1, 'a')));
    oneLine(
      await cli(...common, '--model', big, '--out', dir('doc-big')),
      /^generate: bad model folder: .*DATA-LICENSE\.txt is 1048577 bytes; a model folder's document may have at most 1048576 \(1 MiB\)$/,
    );
    const reserved = model('reserved', (d) => {
      const m = json(join(d, 'manifest.json'));
      m.card.licenseFile = 'imagesTr';
      writeFileSync(join(d, 'manifest.json'), JSON.stringify(m));
      writeFileSync(join(d, 'imagesTr'), 'a license');
    });
    oneLine(
      await cli(...common, '--model', reserved, '--out', dir('doc-reserved')),
      /^generate: bad model folder: the model card's licenseFile "imagesTr" is a name the generated dataset uses itself \(dataset\.json, .*\); rename the license file \(e\.g\. DATA-LICENSE\.txt\) and the card's licenseFile$/,
    );
    // refused before anything was written: the folder takes a good run
    ok(await cli(...common, '--count', '1', '--out', dir('doc-reserved')));
    const listed = json(join(dir('doc-reserved'), 'manifest.json')).documents;
    const { createHash } = await import('node:crypto');
    expect(listed).toEqual(
      ['DATA-LICENSE.txt', 'MODEL-CARD.md'].map((path) => {
        const bytes = readFileSync(join(dir('doc-reserved'), path));
        return { path, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
      }),
    );
  });

  it('stdout closed under it (| head -1): stops after the case in hand, one line, dataset.json describes the cases written', async () => {
    const out = dir('epipe');
    const child = spawn(process.execPath, [...NODE_TSX, '--model', tiny, '--threads', '1', '--steps', '40', '--count', '6', '--out', out], { cwd: root });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.stdout.once('data', () => child.stdout.destroy()); // the reader of the pipe is gone, as after head -1
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    const lines = stderr.split('\n').filter((l) => l.startsWith('generate:') || /^\s+at /.test(l));
    expect(lines, stderr).toEqual([
      expect.stringMatching(
        /^generate: interrupted by its output pipe closing \(EPIPE\) after \d of 6 cases; run again with --resume to finish \(.*epipe holds \d complete cases, all indexed\)$/,
      ),
    ]);
    expect(code, stderr).toBe(141);
    const n = records(out).length;
    expect(n).toBeLessThan(6);
    expect(json(join(out, 'dataset.json')).numTraining).toBe(n);
    expect(json(join(out, 'manifest.json')).cases).toHaveLength(n);
  });

  it('a huge --count and a 12000×12000 mask PNG (a few hundred KB): one line each, before anything is built or decoded', async () => {
    oneLine(
      await cli(...common, '--count', '4294967295', '--out', dir('huge')),
      /^generate: --count 4294967295 gives 4294967295 cases; one run makes at most 100000 \(its index lists every case\): split the seed range over several --out folders \(--help lists the options\)$/,
      2,
    );
    // a real PNG: 12000 rows of 12000 zero bytes, deflated (the decoder would need 576 MB of RGBA)
    const chunk = (type: string, data: Buffer) => {
      const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
      const out = Buffer.alloc(body.length + 8);
      out.writeUInt32BE(data.length, 0);
      body.copy(out, 4);
      out.writeUInt32BE(crc32(body), body.length + 4);
      return out;
    };
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(12000, 0);
    ihdr.writeUInt32BE(12000, 4);
    ihdr[8] = 8; // bit depth; colour type 0 (gray)
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(Buffer.alloc(12000 * 12001), { level: 9 })),
      chunk('IEND', Buffer.alloc(0)),
    ]);
    expect(png.length).toBeLessThan(300_000);
    mkdirSync(dir('huge-masks'));
    writeFileSync(join(dir('huge-masks'), 'big.png'), png);
    oneLine(
      await cli(...common, '--mode', 'mask2image', '--masks', dir('huge-masks'), '--out', dir('huge-out')),
      /^generate: bad masks: .*big\.png: it is 12000×12000 pixels \(144\.0 MP\); --masks takes images of up to 40\.0 MP\. Downscale it first/,
    );
  });

  it('a full disk (ENOSPC): one line naming the file; the cases written are kept and indexed, --resume finishes', async () => {
    // a 40 KB tmpfs in a user and mount namespace of its own (skipped where the system allows none)
    const mnt = dir('small-disk');
    mkdirSync(mnt);
    const probe = await new Promise<boolean>((resolve) =>
      execFile('unshare', ['-rm', 'sh', '-c', 'mount -t tmpfs -o size=40k tmpfs "$0"', mnt], (e) => resolve(!e)),
    );
    if (!probe) return console.warn('SKIPPED the full-disk test: unshare -rm with a tmpfs is not allowed here');
    const kept = dir('full-kept');
    const args = [...common, '--seed', '5', '--count', '4'];
    // the CLI fills the small disk, then what it left is copied out before the namespace ends
    const script = `mount -t tmpfs -o size=40k tmpfs "$1" && shift && "$@" --out "$0/ds"; echo "exit $?" >&2; cp -r "$0/ds" ${JSON.stringify(kept)}`;
    const r = await new Promise<CliResult>((resolve) =>
      execFile(
        'unshare',
        ['-rm', 'sh', '-c', script, mnt, mnt, process.execPath, ...NODE_TSX, ...args],
        { cwd: root, encoding: 'utf8' },
        (_e, stdout, stderr) => resolve({ code: null, stdout, stderr }),
      ),
    );
    // the 40 KB fill up with the documents and a few cases: then one line, exit 1
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('generate:') || /^\s+at /.test(l));
    expect(lines, r.stderr).toEqual([
      expect.stringMatching(
        /^generate: bad output folder: cannot write .*small-disk\/ds\/\S+: no space left on the device \(ENOSPC\); free some space, then run again with --resume \(the cases already written are kept\)$/,
      ),
    ]);
    expect(r.stderr).toMatch(/exit 1$/m);
    const n = records(kept).length;
    if (existsSync(join(kept, 'manifest.json'))) expect(json(join(kept, 'manifest.json')).cases.length).toBeLessThanOrEqual(n);
    ok(await cli(...args, '--resume', '--out', kept));
    expect(snapshot(kept)).toEqual(await referenceRun());
  });

  it('terminal escapes in a manifest name reach neither stdout nor stderr: printed escaped', async () => {
    const name = 'tiny\x1b]0;pwned\x07\x1b[2J\u202e';
    const m = model('escapes', (d) => {
      const manifest = json(join(d, 'manifest.json'));
      manifest.name = name;
      writeFileSync(join(d, 'manifest.json'), JSON.stringify(manifest));
    });
    const r = await cli(...common, '--model', m, '--count', '1', '--out', dir('escapes'));
    ok(r);
    expect(r.stdout).toContain('tiny\\x1b]0;pwned\\x07\\x1b[2J\\u202e 32×32');
    // a refusal names the model too (the folder's cases were made with 3 steps)
    const refused = await cli(...common.slice(0, 2), '--model', m, '--steps', '2', '--out', dir('escapes'));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('model "tiny\\x1b]0;pwned\\x07\\x1b[2J\\u202e"');
    for (const text of [r.stdout, r.stderr, refused.stderr]) for (const raw of ['\x1b]', '\x07', '\u202e']) expect(text).not.toContain(raw);
  });
});
