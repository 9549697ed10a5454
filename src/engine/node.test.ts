// The engine on onnxruntime-node: loading, verification and the messages for broken model folders.

import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ModelKey, sha256Hex } from '../core/manifest';
import { canInline, selfContainedTiny, TINY_DIR } from '../testing/model-layouts';
import { EngineError } from './errors';
import { cpuOptions, fileSource, loadPairFromDir, ort } from './node';
import { readManifest, readModelBytes } from './pair';
import { openCheckedSession } from './unet';

const modelDir = process.env.PIG_GOLDEN_MODEL ?? TINY_DIR;
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

  it('a missing or damaged weights file is named', async () => {
    const dir = await copy('weights');
    const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    if (!m.models.mask.weights) return; // PIG_GOLDEN_MODEL: a folder in the self-contained layout
    const bytes = await readFile(join(dir, 'mask.weights'));
    await rm(join(dir, 'mask.weights'));
    expect((await loadError(dir)).message).toMatch(/^cannot read .*mask\.weights: ENOENT/);
    bytes[bytes.length >> 1] ^= 0xff;
    await writeFile(join(dir, 'mask.weights'), bytes);
    expect((await loadError(dir)).message).toMatch(
      /mask\.weights: mask\.weights \(weights of mask, maskStep\) has SHA-256 [0-9a-f]{64}, the manifest says [0-9a-f]{64}: the file is corrupt or from another export$/,
    );
  });

  it.skipIf(!canInline || modelDir !== TINY_DIR)(
    'the layout before shared weights (self-contained graphs, no weights files) opens, and every graph gives the same outputs bit for bit',
    async () => {
      const old = selfContainedTiny();
      const oldManifest = await readManifest(fileSource(old));
      expect(oldManifest.models.mask.weights).toBeUndefined();
      const [a, b] = await Promise.all([loadPairFromDir(old, { intraOpNumThreads: 1 }), loadPairFromDir(modelDir, { intraOpNumThreads: 1 })]);
      expect(b.manifest.models.mask.weights?.file).toBe('mask.weights');
      const [H, W] = a.manifest.resolution;
      const x = Float32Array.from({ length: 2 * H * W }, (_, i) => Math.sin(i * 0.37));
      const bits = (f: Float32Array) => Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString('base64');
      for (const t of [3, 500, 1000]) {
        expect(bits(await a.denoiser.predictMaskNoise(x, t))).toBe(bits(await b.denoiser.predictMaskNoise(x, t)));
        expect(bits(await a.denoiser.predictImageNoise(x, t))).toBe(bits(await b.denoiser.predictImageNoise(x, t)));
      }
      await Promise.all([a.release(), b.release()]);
      // the step graphs: the same outputs from the same feeds
      const outputs = async (dir: string, role: ModelKey) => {
        const source = fileSource(dir);
        const manifest = await readManifest(source);
        const spec = manifest.models[role]!;
        const bytes = await readModelBytes(source, manifest, [role]);
        const session = await openCheckedSession(ort, role, spec, bytes[role], cpuOptions({ intraOpNumThreads: 1 }));
        const feeds = Object.fromEntries(
          spec.inputs.map(({ name, shape }) => {
            const n = shape.reduce((p, d) => p * d, 1);
            const data = Float32Array.from({ length: n }, (_, i) =>
              name === 't' ? 417 : name === 'clip' ? 1 : name === 'k' ? 0.2 + 0.15 * i : Math.cos(i * 0.11),
            );
            return [name, new ort.Tensor('float32', data, shape)];
          }),
        );
        const out = await session.run(feeds);
        const data = Object.fromEntries(
          await Promise.all(Object.entries(out).map(async ([k, v]) => [k, Buffer.from(((await v.getData()) as Float32Array).buffer).toString('base64')])),
        );
        await session.release();
        return data;
      };
      for (const role of ['maskStep', 'imageStep'] as const) expect(await outputs(old, role)).toEqual(await outputs(modelDir, role));
    },
  );

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
    // ir_version 7 and an empty graph: well-formed protobuf (the structural check passes), ORT refuses it.
    const e = await loadError(await withImageBytes('hollow', Uint8Array.of(0x08, 0x07, 0x3a, 0x00)));
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
