// The engine on onnxruntime-node: loading, verification and the messages for broken model folders.

import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../core/manifest';
import { EngineError } from './errors';
import { cpuOptions, loadPairFromDir } from './node';

const modelDir = process.env.PIG_GOLDEN_MODEL ?? fileURLToPath(new URL('../../public/models/tiny/', import.meta.url));
const present = existsSync(join(modelDir, 'manifest.json'));
if (!present) console.warn(`SKIPPED engine tests on ORT-node: no model pair at ${modelDir}`);

async function loadError(dir: string): Promise<EngineError> {
  try {
    const p = await loadPairFromDir(dir, { warmUp: false });
    await p.release();
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    return e as EngineError;
  }
  throw new Error('expected the load to fail');
}

describe.skipIf(!present)('engine on onnxruntime-node', () => {
  let work: string;
  let copy: (name: string) => Promise<string>;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pig-engine-'));
    let n = 0;
    copy = async (name) => {
      const dir = join(work, `${name}-${n++}`);
      await cp(modelDir, dir, { recursive: true });
      return dir;
    };
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('loads, checks and warms up both sessions; runs return H·W values', async () => {
    const pair = await loadPairFromDir(modelDir, { intraOpNumThreads: 1 });
    const [H, W] = pair.manifest.resolution;
    const eps = await pair.denoiser.predictMaskNoise(new Float32Array(2 * H * W).fill(0.1), 500);
    expect(eps).toBeInstanceOf(Float32Array);
    expect(eps.length).toBe(H * W);
    expect(eps.every(Number.isFinite)).toBe(true);
    // same input, same output (deterministic CPU kernels); concurrent calls are queued, not refused
    const [a, b] = await Promise.all([
      pair.denoiser.predictImageNoise(new Float32Array(2 * H * W), 3),
      pair.denoiser.predictImageNoise(new Float32Array(2 * H * W), 3),
    ]);
    expect(Array.from(a)).toEqual(Array.from(b));
    await pair.release();
  });

  it('sessions do not spin-wait between runs (a joint step alternates two thread pools); ORT takes the setting', async () => {
    expect(cpuOptions({ intraOpNumThreads: 2 })).toMatchObject({ intraOpNumThreads: 2, extra: { session: { intra_op: { allow_spinning: '0' } } } });
    const pair = await loadPairFromDir(modelDir, { intraOpNumThreads: 2 });
    const [H, W] = pair.manifest.resolution;
    const one = await loadPairFromDir(modelDir, { intraOpNumThreads: 1 });
    const input = Float32Array.from({ length: 2 * H * W }, (_, i) => Math.sin(i));
    // two threads without spinning: the same ε as one thread, within float32 reassociation
    const [a, b] = [await pair.denoiser.predictMaskNoise(input, 500), await one.denoiser.predictMaskNoise(input, 500)];
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeLessThan(1e-4);
    await pair.release();
    await one.release();
  });

  it('a corrupt ONNX file is refused by its SHA-256, naming the file', async () => {
    const dir = await copy('corrupt');
    const bytes = await readFile(join(dir, 'mask.onnx'));
    bytes[bytes.length >> 1] ^= 0xff;
    await writeFile(join(dir, 'mask.onnx'), bytes);
    const e = await loadError(dir);
    expect(e.kind).toBe('model');
    expect(e.message).toMatch(/mask\.onnx: mask\.onnx \(mask model\) has SHA-256 [0-9a-f]{64}, the manifest says [0-9a-f]{64}: the file is corrupt/);
  });

  it('a missing ONNX file and a broken manifest get messages that say which', async () => {
    const dir = await copy('missing');
    await rm(join(dir, 'image.onnx'));
    expect((await loadError(dir)).message).toMatch(/cannot read .*image\.onnx/);

    const dir2 = await copy('manifest');
    const m = JSON.parse(await readFile(join(dir2, 'manifest.json'), 'utf8'));
    delete m.models.mask.sha256;
    await writeFile(join(dir2, 'manifest.json'), JSON.stringify(m));
    expect((await loadError(dir2)).message).toMatch(/manifest\.json: manifest\.models\.mask\.sha256 is missing$/);

    const dir3 = await copy('nojson');
    await writeFile(join(dir3, 'manifest.json'), '<!doctype html><html></html>');
    expect((await loadError(dir3)).message).toMatch(/manifest\.json is not valid JSON \(got HTML: is the model folder right\?\)/);
  });

  const withImageBytes = async (name: string, junk: Uint8Array) => {
    const dir = await copy(name);
    await writeFile(join(dir, 'image.onnx'), junk);
    const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    m.models.image.sha256 = await sha256Hex(junk);
    m.models.image.bytes = junk.length;
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(m));
    return dir;
  };

  it('bytes that match the manifest but are not ONNX: named before ORT sees them', async () => {
    const e = await loadError(await withImageBytes('garbage', new TextEncoder().encode('this is not an onnx model')));
    expect(e.kind).toBe('model');
    expect(e.message).toMatch(/image\.onnx: image\.onnx \(image model\) is not an ONNX model: byte 0 has protobuf wire type 4/);
  });

  it('a protobuf that looks like ONNX but is not a model: ORT’s error, naming the file', async () => {
    // ir_version 7 and a 2-byte "graph" of zeros: passes the structural check, ORT refuses it.
    const e = await loadError(await withImageBytes('hollow', Uint8Array.of(0x08, 0x07, 0x3a, 0x02, 0x00, 0x00)));
    expect(e.kind).toBe('model');
    expect(e.message).toMatch(/^ONNX Runtime could not open the models in .*: image\.onnx \(image model\): /);
  });

  it('a model whose input shapes differ from a (valid) manifest is refused, naming them', async () => {
    const dir = await copy('signature');
    const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    const [H, W] = m.resolution;
    m.resolution = [H / 2, W / 2];
    for (const role of ['mask', 'image']) {
      m.models[role].inputs[0].shape = [1, 2, H / 2, W / 2];
      m.models[role].outputs[0].shape = [1, 1, H / 2, W / 2];
    }
    // (the step graphs' entries must follow the new resolution too, or the manifest is invalid)
    for (const role of ['maskStep', 'imageStep']) {
      for (const s of [...(m.models[role]?.inputs ?? []), ...(m.models[role]?.outputs ?? [])]) if (s.shape.length === 4) s.shape = [1, 1, H / 2, W / 2];
    }
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(m));
    const e = await loadError(dir);
    expect(e.kind).toBe('model');
    expect(e.message).toContain(`mask.onnx (mask model) input "x" has shape [1,2,${H},${W}], the manifest says [1,2,${H / 2},${W / 2}]`);
  });
});
