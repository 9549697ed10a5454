// A cheap structural check that bytes are an ONNX model (a protobuf ModelProto), so that a wrong or
// damaged file is named in words ("truncated", "a ZIP archive") before ONNX Runtime is asked to
// parse it and answers with an internal error. Walks only the top-level fields: the graph (field 7)
// is skipped by its length, so the cost does not grow with the model.

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
