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
// External data (contracts.md §2, `weights`): which files a graph keeps tensors in. Walks every
// path from a ModelProto to a TensorProto (graphs, subgraphs, nodes, attributes, sparse tensors,
// functions, training graphs); every large value (raw_data) is skipped by its length, so a
// self-contained graph costs little more than a graph that keeps its tensors outside.
//
// It must read what protobuf reads (ONNX Runtime's C++ parser, the kit's `onnx`), not what an
// exporter writes: a singular embedded message that occurs several times is ONE message, the
// concatenation of its occurrences (a tensor split over two `t` fields of an attribute is one
// tensor with the data_location of one part and the external_data of the other), so a message
// here is the list of its byte ranges. Where protobuf and a lenient reading could differ (a field
// of the wrong wire type, a varint tag or length past 5 bytes, groups, nesting past protobuf's own
// recursion limit), the file is refused rather than guessed at. The work is one pass over the
// bytes: each field header is read once, by the message that holds it.

/** How the messages on the way to a tensor hold each other (onnx.proto field numbers). */
type Kind = 'model' | 'training' | 'function' | 'graph' | 'node' | 'attribute' | 'sparse' | 'tensor';
const CHILDREN: Record<Kind, Record<number, { kind: Kind; repeated: boolean }>> = {
  // graph, training_info, functions
  model: { 7: { kind: 'graph', repeated: false }, 20: { kind: 'training', repeated: true }, 25: { kind: 'function', repeated: true } },
  // initialization, algorithm
  training: { 1: { kind: 'graph', repeated: false }, 2: { kind: 'graph', repeated: false } },
  // node, attribute_proto (attribute defaults)
  function: { 7: { kind: 'node', repeated: true }, 11: { kind: 'attribute', repeated: true } },
  // node, initializer, sparse_initializer
  graph: { 1: { kind: 'node', repeated: true }, 5: { kind: 'tensor', repeated: true }, 15: { kind: 'sparse', repeated: true } },
  node: { 5: { kind: 'attribute', repeated: true } },
  // t, g, tensors, graphs, sparse_tensor, sparse_tensors
  attribute: {
    5: { kind: 'tensor', repeated: false },
    6: { kind: 'graph', repeated: false },
    10: { kind: 'tensor', repeated: true },
    11: { kind: 'graph', repeated: true },
    22: { kind: 'sparse', repeated: false },
    23: { kind: 'sparse', repeated: true },
  },
  // values, indices
  sparse: { 1: { kind: 'tensor', repeated: false }, 2: { kind: 'tensor', repeated: false } },
  tensor: {}, // read below
};
const TENSOR_EXTERNAL_DATA = 13;
const TENSOR_DATA_LOCATION = 14;
const DATA_LOCATION_EXTERNAL = 1;
const ENTRY_KEY = 1;
const ENTRY_VALUE = 2;
/** protobuf's default recursion limit: a deeper file is refused by protobuf itself, so by us too. */
const MAX_DEPTH = 100;
const LOCATION = new TextEncoder().encode('location');

/** A message: the byte ranges of its occurrences, in file order. */
type Ranges = [number, number][];
interface Wire {
  field: number;
  wire: number;
  /** wire type 0: the value's low 32 bits (an enum is an int32 cast of the varint). */
  low32: number;
  /** wire type 2: the bytes' start and end. */
  start: number;
  end: number;
}

/** The fields of the message `ranges` in order, as protobuf's parser reads them. */
function* wireFields(bytes: Uint8Array, ranges: Ranges): Generator<Wire> {
  for (const [from, end] of ranges) {
    let pos = from;
    const corrupt = () => new Error(`its protobuf is corrupt at byte ${pos}`);
    // a varint of at most `max` bytes within the message: its value (exact below 2^53) and low 32 bits
    const varint = (max: number) => {
      let value = 0;
      let low32 = 0;
      for (let i = 0; i < max && pos + i < end; i++) {
        const b = bytes[pos + i];
        value += (b & 0x7f) * 2 ** (7 * i);
        if (i < 5) low32 = (low32 | ((b & 0x7f) << (7 * i))) >>> 0;
        if ((b & 0x80) === 0) {
          pos += i + 1;
          return { value, low32 };
        }
      }
      throw corrupt();
    };
    while (pos < end) {
      // protobuf reads a tag as a uint32 of at most 5 bytes, a length as one below 2^31
      const tag = varint(5);
      if (tag.value >= 2 ** 32) throw corrupt();
      const field = tag.low32 >>> 3;
      const wire = tag.low32 & 7;
      if (field === 0) throw corrupt();
      if (wire === 0) {
        const v = varint(10);
        yield { field, wire, low32: v.low32, start: pos, end: pos };
      } else if (wire === 1 || wire === 5) {
        pos += wire === 1 ? 8 : 4;
        if (pos > end) throw corrupt();
      } else if (wire === 2) {
        const len = varint(5);
        if (len.value >= 2 ** 31 || pos + len.value > end) throw corrupt();
        yield { field, wire, low32: 0, start: pos, end: pos + len.value };
        pos += len.value;
      } else throw corrupt(); // groups (3, 4): no ONNX message has one
    }
  }
}

const equalBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** The `location` of every tensor of an ONNX model (checkOnnxBytes first) that keeps its data outside the file. */
export function externalDataLocations(bytes: Uint8Array): string[] {
  const out = new Set<string>();
  const work: { kind: Kind; ranges: Ranges; depth: number }[] = [{ kind: 'model', ranges: [[0, bytes.length]], depth: 0 }];
  for (let item = work.pop(); item; item = work.pop()) {
    const { kind, ranges, depth } = item;
    if (depth >= MAX_DEPTH) throw new Error(`its messages are nested more than ${MAX_DEPTH} deep`);
    const singular = new Map<number, Ranges>();
    const children = CHILDREN[kind];
    const strict = (f: Wire, wire: number) => {
      if (f.wire !== wire) throw new Error(`its protobuf is corrupt at byte ${f.start}: field ${f.field} of a ${kind} has wire type ${f.wire}`);
    };
    // a tensor: external when any data_location says so (protobuf keeps the last known value; any
    // 1 is a superset of what it keeps), with every location its external_data names
    let external = false;
    const locations: string[] = [];
    for (const f of wireFields(bytes, ranges)) {
      const child = children[f.field];
      if (kind === 'tensor' && f.field === TENSOR_DATA_LOCATION) {
        strict(f, 0);
        external ||= f.low32 === DATA_LOCATION_EXTERNAL;
      } else if (kind === 'tensor' && f.field === TENSOR_EXTERNAL_DATA) {
        // an external_data entry: its key and value, the last of each as protobuf keeps them
        strict(f, 2);
        let key: Wire | undefined;
        let value: Wire | undefined;
        for (const e of wireFields(bytes, [[f.start, f.end]])) {
          if (e.field === ENTRY_KEY || e.field === ENTRY_VALUE) strict(e, 2);
          if (e.field === ENTRY_KEY) key = e;
          else if (e.field === ENTRY_VALUE) value = e;
        }
        if (key && equalBytes(bytes.subarray(key.start, key.end), LOCATION))
          locations.push(value ? new TextDecoder().decode(bytes.subarray(value.start, value.end)) : '');
      } else if (child) {
        strict(f, 2);
        if (child.repeated) work.push({ kind: child.kind, ranges: [[f.start, f.end]], depth: depth + 1 });
        else if (singular.has(f.field)) singular.get(f.field)?.push([f.start, f.end]);
        else singular.set(f.field, [[f.start, f.end]]);
      }
    }
    for (const [field, parts] of singular) work.push({ kind: children[field].kind, ranges: parts, depth: depth + 1 });
    // ONNX Runtime reads external_data only where data_location says EXTERNAL; one with no
    // location is refused as an empty name
    if (external) for (const l of locations.length ? locations : ['']) out.add(l);
  }
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
