// Animated PNG (APNG, https://wiki.mozilla.org/APNG_Specification) from the PNG pieces of png.ts:
// the first frame is the ordinary IDAT (what a PNG-only reader shows), every later frame an fdAT;
// each frame has an fcTL with its delay. All frames cover the whole canvas and replace it
// (dispose none, blend source), so every frame is a complete picture on its own.
import { concatBytes, PNG_SIGNATURE, type PngChannels, type PngOptions, pngChunk, pngHeader, pngScanlines, zlibCompress, zlibStored } from './png';

export interface ApngFrame {
  /** width·height·channels bytes, row-major. */
  pixels: Uint8Array;
  /** How long the frame shows, in milliseconds (0 … 65535). */
  delayMs: number;
}

export interface ApngOptions extends PngOptions {
  /** Bytes per pixel: 1 gray, 3 RGB. Default 1. */
  channels?: PngChannels;
  /** How often the animation plays; 0 = forever (default). */
  plays?: number;
}

function u32(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const v = new DataView(out.buffer);
  for (const [i, x] of values.entries()) v.setUint32(i * 4, x);
  return out;
}

/** fcTL: sequence, size, offset (0, 0), delay as ms/1000, dispose none, blend source. */
function frameControl(sequence: number, width: number, height: number, delayMs: number): Uint8Array {
  const data = new Uint8Array(26);
  data.set(u32(sequence, width, height, 0, 0), 0);
  const v = new DataView(data.buffer);
  v.setUint16(20, delayMs);
  v.setUint16(22, 1000);
  data[24] = 0; // APNG_DISPOSE_OP_NONE
  data[25] = 0; // APNG_BLEND_OP_SOURCE
  return data;
}

/** Encodes equally sized frames as one APNG that loops `plays` times (0: forever). */
export async function encodeApng(frames: readonly ApngFrame[], width: number, height: number, opts: ApngOptions = {}): Promise<Uint8Array> {
  if (frames.length === 0) throw new Error('APNG: no frames to encode');
  const channels = opts.channels ?? 1;
  const compress = opts.compress === false ? zlibStored : zlibCompress;
  const header = pngHeader(width, height, channels);
  const parts: Uint8Array[] = [PNG_SIGNATURE, pngChunk('IHDR', header), pngChunk('acTL', u32(frames.length, opts.plays ?? 0))];
  // fcTL and fdAT share one sequence counter, starting at 0.
  let sequence = 0;
  for (let i = 0; i < frames.length; i++) {
    const frame = frames[i];
    const delay = Math.round(frame.delayMs);
    if (!(delay >= 0 && delay <= 0xffff)) throw new Error(`APNG: frame ${i} delay ${frame.delayMs} ms is outside 0 … 65535`);
    let data: Uint8Array;
    try {
      data = await compress(pngScanlines(frame.pixels, width, height, channels));
    } catch (e) {
      throw new Error(`APNG frame ${i}: ${e instanceof Error ? e.message : String(e)}`);
    }
    parts.push(pngChunk('fcTL', frameControl(sequence++, width, height, delay)));
    if (i === 0) parts.push(pngChunk('IDAT', data));
    else parts.push(pngChunk('fdAT', concatBytes([u32(sequence++), data])));
  }
  parts.push(pngChunk('IEND', new Uint8Array(0)));
  return concatBytes(parts);
}
