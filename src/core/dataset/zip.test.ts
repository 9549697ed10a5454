// The ZIP writer, checked by Python's zipfile (CRCs via testzip, names, bytes, method, timestamps).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pythonHas, runPythonJson } from '../../testing/python';
import { ZipWriter, zip } from './zip';

const READ_ZIP = `
import json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    bad = z.testzip()
    infos = z.infolist()
    print(json.dumps({"bad": bad, "entries": [
        {"name": i.filename, "hex": z.read(i).hex(), "method": i.compress_type, "date": list(i.date_time), "size": i.file_size}
        for i in infos]}))
`;

const hasPython = pythonHas('zipfile');
if (!hasPython) console.warn('SKIPPED zip reading test: no /usr/bin/python3');

describe.skipIf(!hasPython)('zip (read back by Python zipfile)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pig-zip-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('deflated and stored entries with nested paths, a UTF-8 name, an empty file and 200 kB of bytes', () => {
    const big = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 31 + (i >> 8)) & 255);
    let x = 2463534242;
    const noise = Uint8Array.from({ length: 5000 }, () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), x & 255)); // xorshift32
    const files = [
      { path: 'dataset.json', bytes: new TextEncoder().encode(JSON.stringify({ numTraining: 2, labels: { background: 0, lesion: 1 } }, null, 2).repeat(20)) },
      { path: 'imagesTr/pig_0000000007_0000.png', bytes: big },
      { path: 'imagesTr/noise.png', bytes: noise },
      { path: 'labelsTr/empty.png', bytes: new Uint8Array(0) },
      { path: 'notes/Ω-ŷ₀.txt', bytes: new TextEncoder().encode('ŷ₀') },
    ];
    // deflated where that is smaller: the repetitive JSON and the patterned bytes; noise and tiny files stored
    const methods = [8, 8, 0, 0, 0];
    const path = join(dir, 'a.zip');
    writeFileSync(path, zip(files));
    const got = runPythonJson<{ bad: string | null; entries: { name: string; hex: string; method: number; date: number[]; size: number }[] }>(READ_ZIP, path);
    expect(got.bad).toBeNull(); // every CRC-32 checks
    expect(got.entries.map((e) => e.name)).toEqual(files.map((f) => f.path));
    got.entries.forEach((e, i) => {
      expect(e.hex).toBe(Buffer.from(files[i].bytes).toString('hex'));
      expect(e.size).toBe(files[i].bytes.length);
      expect(e.method, e.name).toBe(methods[i]); // ZIP_DEFLATED 8, ZIP_STORED 0
      expect(e.date).toEqual([1980, 1, 1, 0, 0, 0]);
    });
  });

  it('the streamed chunks are the same archive as zip(); the same files give the same bytes', () => {
    const files = [
      { path: 'a/b.bin', bytes: Uint8Array.of(1, 2, 3) },
      { path: 'c.bin', bytes: Uint8Array.of(4) },
    ];
    const w = new ZipWriter();
    const chunks = [...files.map((f) => w.add(f.path, f.bytes)), w.finish()];
    expect(Buffer.concat(chunks)).toEqual(Buffer.from(zip(files)));
    expect(Buffer.from(zip(files))).toEqual(Buffer.from(zip(files)));
  });
});

describe('zip refuses what it cannot write correctly', () => {
  it('duplicate, absolute and dot-dot paths', () => {
    const w = new ZipWriter();
    w.add('a.txt', new Uint8Array(1));
    expect(() => w.add('a.txt', new Uint8Array(1))).toThrow(/duplicate entry "a.txt"/);
    expect(() => w.add('/etc/x', new Uint8Array(1))).toThrow(/not a relative path/);
    expect(() => w.add('a/../b', new Uint8Array(1))).toThrow(/not a relative path/);
    w.finish();
    expect(() => w.add('b.txt', new Uint8Array(1))).toThrow(/after finish/);
  });
});
