// A cheap structural check that bytes are an ONNX model (a protobuf ModelProto), so that a wrong or
// damaged file is named in words ("truncated", "a ZIP archive") before ONNX Runtime is asked to
// parse it and answers with an internal error. Walks only the top-level fields: the graph (field 7)
// is skipped by its length, so the cost does not grow with the model.

import { FILE_NAME } from './manifest';

/** ModelProto field numbers we require (onnx.proto): ir_version and graph. */
const IR_VERSION = 1;
const GRAPH = 7;
/** Names of ModelProto's length-delimited fields, for messages. */
const FIELD_NAMES: Record<number, string> = {
  2: 'producer_name',
  3: 'producer_version',
  4: 'domain',
  6: 'doc_string',
  7: 'graph',
  8: 'opset_import',
  14: 'metadata_props',
  20: 'training_info',
  25: 'functions',
};

/** What the first bytes say a non-ONNX file is, for the message. */
function looksLike(bytes: Uint8Array): string | null {
  const starts = (...sig: number[]) => sig.every((b, i) => bytes[i] === b);
  if (starts(0x89, 0x50, 0x4e, 0x47)) return 'a PNG image';
  if (starts(0xff, 0xd8, 0xff)) return 'a JPEG image';
  if (starts(0x50, 0x4b, 0x03, 0x04)) return 'a ZIP archive (a PyTorch checkpoint?)';
  if (starts(0x1f, 0x8b)) return 'a gzip archive';
  if (starts(0x80) && (bytes[1] ?? 0) <= 5) return 'a Python pickle';
  const head = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, 64)).trimStart();
  if (head.startsWith('<')) return 'an HTML or XML page';
  if (head.startsWith('{') || head.startsWith('[')) return 'JSON text';
  if (head.startsWith('version https://git-lfs')) return 'a Git LFS pointer, not the model itself';
  return null;
}

/** Reads a base-128 varint at `pos`; null if it runs past the end or exceeds 10 bytes. */
function readVarint(bytes: Uint8Array, pos: number): { value: number; next: number } | null {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    const at = pos + i;
    if (at >= bytes.length) return null;
    const b = bytes[at];
    value += (b & 0x7f) * scale;
    scale *= 128;
    if ((b & 0x80) === 0) return { value, next: at + 1 };
  }
  return null;
}

/**
 * Throws an Error naming `file` when `bytes` cannot be an ONNX model: empty, another kind of file,
 * or a protobuf cut short (a length that runs past the end: a truncated download or copy).
 */
export function checkOnnxBytes(file: string, bytes: Uint8Array): void {
  const notOnnx = (why: string) => new Error(`${file} is not an ONNX model: ${why}`);
  if (bytes.length === 0) throw notOnnx('the file is empty');
  const kind = looksLike(bytes);
  if (kind) throw notOnnx(`it is ${kind}`);
  let pos = 0;
  let sawIrVersion = false;
  let sawGraph = false;
  while (pos < bytes.length) {
    const tag = readVarint(bytes, pos);
    if (!tag) throw new Error(`${file} is truncated or corrupt: it ends inside a field header at byte ${pos} of ${bytes.length}`);
    const field = Math.floor(tag.value / 8);
    const wire = tag.value % 8;
    if (field === 0) throw notOnnx(`byte ${pos} is not a valid protobuf field (ONNX files are protobuf ModelProto messages)`);
    pos = tag.next;
    if (wire === 0) {
      const v = readVarint(bytes, pos);
      if (!v) throw new Error(`${file} is truncated or corrupt: it ends inside field ${field} at byte ${pos} of ${bytes.length}`);
      if (field === IR_VERSION) sawIrVersion = true;
      pos = v.next;
    } else if (wire === 1 || wire === 5) {
      pos += wire === 1 ? 8 : 4;
    } else if (wire === 2) {
      const len = readVarint(bytes, pos);
      if (!len) throw new Error(`${file} is truncated or corrupt: it ends inside the length of field ${field} at byte ${pos} of ${bytes.length}`);
      pos = len.next + len.value;
      if (pos > bytes.length) {
        const what = FIELD_NAMES[field] ? `its ${FIELD_NAMES[field]}` : `field ${field}`;
        throw new Error(`${file} is truncated: ${what} needs ${len.value} bytes from byte ${len.next}, but the file ends at byte ${bytes.length}`);
      }
      if (field === GRAPH) sawGraph = true;
    } else {
      throw notOnnx(`byte ${tag.next - 1} has protobuf wire type ${wire}, which ONNX files never use`);
    }
  }
  if (pos > bytes.length) throw new Error(`${file} is truncated: its last field runs past the end (byte ${bytes.length})`);
  if (!sawGraph) throw notOnnx(`it has no graph${sawIrVersion ? ' (a ModelProto header without a model: truncated?)' : ''}`);
  if (!sawIrVersion) throw notOnnx('it has no ir_version field');
}

// ---------------------------------------------------------------------------------------------
// External data (contracts.md §2, `weights`): which files a graph keeps tensors in. Walks the
// graph's tensors (initializers, sparse initializers, tensor attributes, subgraphs); every large
// value (raw_data) is skipped by its length, so a self-contained graph costs little more than a
// graph that keeps its tensors outside.

/** onnx.proto field numbers on the way from a ModelProto to its tensors' external_data. */
const GRAPH_NODE = 1;
const GRAPH_INITIALIZER = 5;
const GRAPH_SPARSE_INITIALIZER = 15;
const NODE_ATTRIBUTE = 5;
const ATTRIBUTE_TENSOR = 5;
const ATTRIBUTE_GRAPH = 6;
const ATTRIBUTE_TENSORS = 10;
const ATTRIBUTE_GRAPHS = 11;
const ATTRIBUTE_SPARSE_TENSOR = 22;
const ATTRIBUTE_SPARSE_TENSORS = 23;
const SPARSE_VALUES = 1;
const SPARSE_INDICES = 2;
const TENSOR_EXTERNAL_DATA = 13;
const TENSOR_DATA_LOCATION = 14;
const DATA_LOCATION_EXTERNAL = 1;

interface Field {
  field: number;
  /** wire type 0: the value; 2: the bytes' start and end. */
  value: number;
  start: number;
  end: number;
}

/** The fields of the message in bytes[start, end); throws where a length runs past its message. */
function* fields(bytes: Uint8Array, start: number, end: number): Generator<Field> {
  let pos = start;
  const corrupt = () => new Error(`its protobuf is corrupt at byte ${pos}`);
  while (pos < end) {
    const tag = readVarint(bytes, pos);
    if (!tag || tag.next > end) throw corrupt();
    const field = Math.floor(tag.value / 8);
    const wire = tag.value % 8;
    pos = tag.next;
    if (wire === 0) {
      const v = readVarint(bytes, pos);
      if (!v || v.next > end) throw corrupt();
      yield { field, value: v.value, start: pos, end: v.next };
      pos = v.next;
    } else if (wire === 1 || wire === 5) {
      pos += wire === 1 ? 8 : 4;
    } else if (wire === 2) {
      const len = readVarint(bytes, pos);
      if (!len || len.next + len.value > end) throw corrupt();
      yield { field, value: len.value, start: len.next, end: len.next + len.value };
      pos = len.next + len.value;
    } else throw corrupt();
  }
  if (pos > end) throw corrupt();
}

const text = (bytes: Uint8Array, f: Field) => new TextDecoder().decode(bytes.subarray(f.start, f.end));

function tensorLocations(bytes: Uint8Array, t: Field, out: Set<string>): void {
  let external = false;
  const locations: string[] = [];
  for (const f of fields(bytes, t.start, t.end)) {
    if (f.field === TENSOR_DATA_LOCATION) external = f.value === DATA_LOCATION_EXTERNAL;
    else if (f.field === TENSOR_EXTERNAL_DATA) {
      let key = '';
      let value = '';
      for (const e of fields(bytes, f.start, f.end)) {
        if (e.field === 1) key = text(bytes, e);
        else if (e.field === 2) value = text(bytes, e);
      }
      if (key === 'location') locations.push(value);
    }
  }
  // ONNX Runtime reads external_data only where data_location says EXTERNAL
  if (external) for (const l of locations) out.add(l);
}

function sparseLocations(bytes: Uint8Array, s: Field, out: Set<string>): void {
  for (const f of fields(bytes, s.start, s.end)) if (f.field === SPARSE_VALUES || f.field === SPARSE_INDICES) tensorLocations(bytes, f, out);
}

function graphLocations(bytes: Uint8Array, g: Field, out: Set<string>): void {
  for (const f of fields(bytes, g.start, g.end)) {
    if (f.field === GRAPH_INITIALIZER) tensorLocations(bytes, f, out);
    else if (f.field === GRAPH_SPARSE_INITIALIZER) sparseLocations(bytes, f, out);
    else if (f.field === GRAPH_NODE) {
      for (const a of fields(bytes, f.start, f.end)) {
        if (a.field !== NODE_ATTRIBUTE) continue;
        for (const v of fields(bytes, a.start, a.end)) {
          if (v.field === ATTRIBUTE_TENSOR || v.field === ATTRIBUTE_TENSORS) tensorLocations(bytes, v, out);
          else if (v.field === ATTRIBUTE_SPARSE_TENSOR || v.field === ATTRIBUTE_SPARSE_TENSORS) sparseLocations(bytes, v, out);
          else if (v.field === ATTRIBUTE_GRAPH || v.field === ATTRIBUTE_GRAPHS) graphLocations(bytes, v, out);
        }
      }
    }
  }
}

/** The `location` of every tensor of an ONNX model (checkOnnxBytes first) that keeps its data outside the file. */
export function externalDataLocations(bytes: Uint8Array): string[] {
  const out = new Set<string>();
  for (const f of fields(bytes, 0, bytes.length)) if (f.field === GRAPH) graphLocations(bytes, f, out);
  return [...out].sort();
}

/**
 * Throws an Error naming `file` when the graph in `bytes` keeps tensors anywhere but `weights`, the
 * weights file its manifest entry names (none: it must keep none outside): a location with a folder
 * in it, or one the manifest does not name (ONNX Runtime would look for it on its own).
 */
export function checkExternalData(file: string, bytes: Uint8Array, weights: string | undefined): void {
  let locations: string[];
  try {
    locations = externalDataLocations(bytes);
  } catch (e) {
    throw new Error(`${file} is not an ONNX model: ${(e as Error).message}`);
  }
  for (const location of locations) {
    if (!FILE_NAME.test(location))
      throw new Error(`${file} keeps tensors in ${JSON.stringify(location)}: external data must be a plain file name in the model folder`);
    if (location !== weights)
      throw new Error(`${file} keeps tensors in ${location}, but the manifest ${weights ? `names ${weights} as its weights` : 'names no weights file for it'}`);
  }
}
