// ZIP archive writer (PKWARE APPNOTE 6.3.x, no ZIP64): each entry deflated by fflate (method 8) where
// that makes it smaller (JSON, text), else stored (method 0: PNGs and .nii.gz are deflated already).
// fflate is pure JavaScript, so the archive is the same bytes in the browser and in Node. DOM-free;
// the studio's batch export zips a dataset with it, tests read the result with Python's zipfile.
//
// Streaming-friendly: ZipWriter.add returns the bytes of one entry (local header + data) as soon as
// it is added, finish() the central directory; zip() concatenates them for small archives.
// Deterministic: every entry carries the same fixed timestamp (1980-01-01 00:00, the DOS epoch),
// so the same files give the same archive bytes.
// Limits (no ZIP64): at most 65,535 entries and 4 GiB in all; beyond that add() throws.

import { deflateSync } from 'fflate';
import { crc32 } from '../crc32';
import { concatBytes, DEFLATE_LEVEL } from '../png';

export interface DatasetFile {
  /** Path inside the dataset, '/'-separated, relative (e.g. "imagesTr/pig_0000000007_0000.png"). */
  path: string;
  bytes: Uint8Array;
}

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const VERSION = 20; // 2.0: what a deflated or stored entry with a directory path needs
const STORED = 0;
const DEFLATED = 8;
const UTF8_NAMES = 1 << 11; // general purpose flag bit 11: names are UTF-8
const DOS_TIME = 0; // 00:00:00
const DOS_DATE = (0 << 9) | (1 << 5) | 1; // 1980-01-01
const MAX_ENTRIES = 0xffff;
const MAX_OFFSET = 0xffffffff;

interface CentralRecord {
  name: Uint8Array;
  crc: number;
  method: number;
  /** Bytes in the archive (deflated or stored) and of the file itself. */
  compressed: number;
  size: number;
  offset: number;
}

export class ZipWriter {
  private readonly entries: CentralRecord[] = [];
  private readonly names = new Set<string>();
  private offset = 0;
  private finished = false;

  /** Adds one file; returns its local header followed by its bytes. */
  add(path: string, bytes: Uint8Array): Uint8Array {
    if (this.finished) throw new Error('zip: add() after finish()');
    if (!path || path.startsWith('/') || path.includes('\\') || path.split('/').some((p) => p === '' || p === '.' || p === '..')) {
      throw new Error(`zip: "${path}" is not a relative path of plain '/'-separated names`);
    }
    if (this.names.has(path)) throw new Error(`zip: duplicate entry "${path}"`);
    if (this.entries.length >= MAX_ENTRIES) throw new Error(`zip: more than ${MAX_ENTRIES} entries needs ZIP64, which this writer does not write`);
    const name = new TextEncoder().encode(path);
    const header = new Uint8Array(30 + name.length);
    const v = new DataView(header.buffer);
    const crc = crc32(bytes);
    const deflated = deflateSync(bytes, { level: DEFLATE_LEVEL });
    const method = deflated.length < bytes.length ? DEFLATED : STORED;
    const data = method === DEFLATED ? deflated : bytes;
    v.setUint32(0, LOCAL_HEADER, true);
    v.setUint16(4, VERSION, true);
    v.setUint16(6, UTF8_NAMES, true);
    v.setUint16(8, method, true);
    v.setUint16(10, DOS_TIME, true);
    v.setUint16(12, DOS_DATE, true);
    v.setUint32(14, crc, true);
    v.setUint32(18, data.length, true); // compressed size
    v.setUint32(22, bytes.length, true);
    v.setUint16(26, name.length, true);
    v.setUint16(28, 0, true); // extra field length
    header.set(name, 30);
    const end = this.offset + header.length + data.length;
    if (end > MAX_OFFSET) throw new Error('zip: archive over 4 GiB needs ZIP64, which this writer does not write');
    this.entries.push({ name, crc, method, compressed: data.length, size: bytes.length, offset: this.offset });
    this.names.add(path);
    this.offset = end;
    const out = new Uint8Array(header.length + data.length);
    out.set(header, 0);
    out.set(data, header.length);
    return out;
  }

  /** The central directory and its end record; no add() after this. */
  finish(): Uint8Array {
    this.finished = true;
    const size = this.entries.reduce((n, e) => n + 46 + e.name.length, 0);
    const out = new Uint8Array(size + 22);
    const v = new DataView(out.buffer);
    let o = 0;
    for (const e of this.entries) {
      v.setUint32(o, CENTRAL_HEADER, true);
      v.setUint16(o + 4, VERSION, true); // version made by (MS-DOS attributes)
      v.setUint16(o + 6, VERSION, true); // version needed
      v.setUint16(o + 8, UTF8_NAMES, true);
      v.setUint16(o + 10, e.method, true);
      v.setUint16(o + 12, DOS_TIME, true);
      v.setUint16(o + 14, DOS_DATE, true);
      v.setUint32(o + 16, e.crc, true);
      v.setUint32(o + 20, e.compressed, true);
      v.setUint32(o + 24, e.size, true);
      v.setUint16(o + 28, e.name.length, true);
      // extra, comment length, disk number, internal and external attributes: all 0
      v.setUint32(o + 42, e.offset, true);
      out.set(e.name, o + 46);
      o += 46 + e.name.length;
    }
    v.setUint32(o, END_OF_CENTRAL_DIRECTORY, true);
    v.setUint16(o + 8, this.entries.length, true); // entries on this disk
    v.setUint16(o + 10, this.entries.length, true); // entries in all
    v.setUint32(o + 12, size, true);
    v.setUint32(o + 16, this.offset, true); // where the central directory starts
    return out;
  }
}

/** The whole archive of `files`, in the given order, as one array. */
export function zip(files: readonly DatasetFile[]): Uint8Array {
  const w = new ZipWriter();
  const parts = files.map((f) => w.add(f.path, f.bytes));
  parts.push(w.finish());
  return concatBytes(parts);
}
