// The step-graph executor (the WebGPU path's logic) on onnxruntime-node with CPU tensors: it must
// reproduce the kit's golden fixtures, agree with core's CPU executor in every mode, with η > 0 and
// with clip, read back nothing it was not asked for, and dispose every tensor it made or received.
// Graphs exported before the option clip (made here from the committed ones) run clip none and
// send a run that clips to the plain U-Nets.

import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ortNode from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { countDiffering, GOLDEN_FIXTURES, type GoldenFixture, maxAbsDiff } from '../core/golden';
import { type Manifest, sha256Hex, takesClip } from '../core/manifest';
import { runSampler, type SamplerFrame, type SamplerMode, type SamplerOptions } from '../core/sampler';
import { pythonHas, runPythonJson } from '../testing/python';
import { trackingOrt } from '../testing/tracking-ort';
import { EngineError } from './errors';
import { fileSource, loadPairFromDir, loadStepPairFromDir } from './node';
import { createStepPair, type LoadedPair, type LoadedStepPair, readManifest, readModelBytes } from './pair';
import { cpuPlace } from './steps';
import type { OrtModule } from './unet';

const fixturePath = GOLDEN_FIXTURES[0].path;
const modelDir = (process.env.PIG_GOLDEN_MODEL ?? fileURLToPath(new URL('../../public/models/tiny/', import.meta.url))).replace(/\/?$/, '/');
const hasGraphs = existsSync(`${modelDir}manifest.json`) && 'maskStep' in (JSON.parse(readFileSync(`${modelDir}manifest.json`, 'utf8')).models ?? {});
const present = hasGraphs && existsSync(fixturePath);
if (!present) console.warn(`SKIPPED step-graph executor tests: needs ${fixturePath} and step graphs in ${modelDir}manifest.json`);

describe.skipIf(!present)('step-graph executor on onnxruntime-node (tiny pair)', () => {
  let steps: LoadedStepPair;
  let plain: LoadedPair;
  let fx: GoldenFixture;
  let H: number;
  let W: number;
  beforeAll(async () => {
    fx = JSON.parse(readFileSync(fixturePath, 'utf8'));
    steps = await loadStepPairFromDir(modelDir, { intraOpNumThreads: 1 });
    plain = await loadPairFromDir(modelDir, { intraOpNumThreads: 1 });
    [H, W] = steps.manifest.resolution;
  });
  afterAll(async () => {
    await steps?.release();
    await plain?.release();
  });

  for (const fixture of GOLDEN_FIXTURES) {
    it.skipIf(!existsSync(fixture.path))(
      `reproduces the golden fixture ${fixture.name}: x̂₀, ŷ₀ within 1e-3, c identical but for at most 2 pixels`,
      async () => {
        expect(steps.path).toBe('step-graphs');
        const golden: GoldenFixture = JSON.parse(readFileSync(fixture.path, 'utf8'));
        const frames: SamplerFrame[] = [];
        const base = { executor: steps.executors, schedule: steps.schedule, height: H, width: W, steps: golden.steps, seed: golden.seed, eta: golden.eta };
        const r = await runSampler({ ...base, clip: golden.clip }, (f) => {
          frames.push(f);
        });
        const report = golden.frames.map((f, i) => ({
          t: f.t,
          x0: maxAbsDiff(frames[i].x0, f.x0),
          y0: maxAbsDiff(frames[i].y0, f.y0),
          cFlips: countDiffering(frames[i].c, f.c),
        }));
        console.info(`step graphs (ORT CPU) vs PyTorch (${fixture.name}, clip ${golden.clip ?? 'none'}), max |Δ| per step: ${JSON.stringify(report)}`);
        // Tolerance: the graphs compute the DDIM update in float32 from a float32 k, core in float64
        // per element; ε agrees with PyTorch to ~1e-5 and x̂₀ divides by √ᾱ_t ≥ 0.054, so ~2e-4 is
        // the expected worst case and 1e-3 leaves margin while any wiring error (channel, k order,
        // condition, clip flag) moves values by 1e-1. c = B(x̂₀) is a threshold: a pixel whose pooled
        // x̂₀ lies within ~1e-5 of θ may land on either side, so at most 2 flips per step are
        // tolerated (measured here: 0).
        for (const row of report) {
          expect(row.x0, JSON.stringify(report)).toBeLessThan(1e-3);
          expect(row.y0, JSON.stringify(report)).toBeLessThan(1e-3);
          expect(row.cFlips, JSON.stringify(report)).toBeLessThanOrEqual(2);
        }
        expect(countDiffering(r.mask, golden.mask)).toBeLessThanOrEqual(2);
        expect(maxAbsDiff(r.image, golden.image)).toBeLessThan(1e-3);
      },
    );
  }

  it('agrees with core’s CPU executor over the plain U-Nets in every mode, and with η > 0', async () => {
    const both = async (extra: Partial<SamplerOptions>) => {
      const base = { schedule: steps.schedule, height: H, width: W, steps: 3, seed: 5, binarize: steps.manifest.sampler.binarize, ...extra };
      const a = await runSampler({ ...base, executor: steps.executors });
      const b = await runSampler({ ...base, denoiser: plain.denoiser });
      return { image: maxAbsDiff(a.image, b.image), maskFlips: countDiffering(a.mask, b.mask) };
    };
    const image = Float32Array.from(fx.image);
    const mask = Float32Array.from(fx.mask);
    const cases: [string, Partial<SamplerOptions>][] = [
      ['pair η=0', {}],
      ['pair η=1 (z from streams 2, 3)', { eta: 1 }],
      ['mask→image', { mode: { kind: 'maskToImage', mask } as SamplerMode }],
      ['image→mask', { mode: { kind: 'imageToMask', image } as SamplerMode }],
      ['pair clip image', { clip: 'image' }],
      ['pair η=1 clip both', { eta: 1, clip: 'both' }],
      ['mask→image clip image', { mode: { kind: 'maskToImage', mask } as SamplerMode, clip: 'image' }],
      ['image→mask clip both', { mode: { kind: 'imageToMask', image } as SamplerMode, clip: 'both' }],
    ];
    for (const [name, extra] of cases) {
      const d = await both(extra);
      expect(d.image, name).toBeLessThan(1e-3);
      expect(d.maskFlips, name).toBeLessThanOrEqual(2);
    }
  });

  it('previews off gives the same pair as previews on', async () => {
    const base = { executor: steps.executors, schedule: steps.schedule, height: H, width: W, steps: 2, seed: 9 };
    let frames = 0;
    const off = await runSampler({ ...base, previews: false }, (f) => {
      frames++;
      expect(f.x0 ?? f.y0 ?? f.c).toBeUndefined();
    });
    const on = await runSampler(base);
    expect(frames).toBe(2);
    expect(Array.from(off.mask)).toEqual(Array.from(on.mask));
    expect(Array.from(off.image)).toEqual(Array.from(on.image));
  });

  it('keeps one run in flight: each run waits until the device has finished the run before it', async () => {
    // A device whose work is done only when the test says so; the ORT CPU runs themselves finish.
    const dones: (() => void)[] = [];
    const place = { ...cpuPlace(ortNode as unknown as OrtModule), workDone: () => new Promise<void>((resolve) => dones.push(resolve)) };
    const source = fileSource(modelDir);
    const manifest = await readManifest(source);
    const bytes = await readModelBytes(source, manifest, ['maskStep', 'imageStep'] as const);
    const pair = await createStepPair(ortNode as unknown as OrtModule, manifest, bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1 }, () => place, {
      warmUp: false,
    });
    try {
      const run = runSampler({ executor: pair.executors, schedule: pair.schedule, height: H, width: W, steps: 2, seed: 1, previews: false });
      // Waits (however loaded the machine) until `n` waits were submitted, then a little longer, so
      // that a run submitted too early would show up as one wait too many.
      const submitted = async (n: number) => {
        for (let waited = 0; dones.length < n && waited < 20_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
        await new Promise((r) => setTimeout(r, 50));
        return dones.length;
      };
      expect(await submitted(2)).toBe(2); // step 0: maskStep returned at once, imageStep waits on maskStep's work
      dones[0]();
      expect(await submitted(3)).toBe(3); // step 1's maskStep was submitted, now waits on step 0's imageStep
      dones[1]();
      expect(await submitted(4)).toBe(4);
      dones[2]();
      expect(await submitted(5)).toBe(5); // step 1's imageStep, then finish() waits for all work
      dones[3]();
      dones[4]();
      const r = await run;
      expect(r.steps).toBe(2);
    } finally {
      await pair.release();
    }
  });

  it('disposes every tensor it uploads, creates or receives from a run', async () => {
    const { ort: tracking, made } = trackingOrt();
    const source = fileSource(modelDir);
    const manifest = await readManifest(source);
    const bytes = await readModelBytes(source, manifest, ['maskStep', 'imageStep'] as const);
    const pair = await createStepPair(tracking, manifest, bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1 }, () => cpuPlace(tracking));
    try {
      for (const previews of [true, false] as const) {
        made.length = 0;
        await runSampler({ executor: pair.executors, schedule: pair.schedule, height: H, width: W, steps: 3, seed: 2, eta: 0.5, previews });
        // per step: t, k, z (η > 0, not the last step) × 2 and 5 outputs; once: x_T, y_T, zeros
        // and each graph's clip flag where it takes one
        const flags = [manifest.models.maskStep!, manifest.models.imageStep!].filter(takesClip).length;
        expect(made.length).toBe(3 * (2 + 2 + 5) + 2 * 2 + 3 + flags);
        expect(made.filter((t) => t.location !== 'none').map((t) => t.dims)).toEqual([]);
      }
      // and when the run stops half-way (here: the consumer throws; image → mask uploads y_t per step)
      made.length = 0;
      const bad = runSampler(
        {
          executor: pair.executors,
          schedule: pair.schedule,
          height: H,
          width: W,
          steps: 2,
          seed: 2,
          mode: { kind: 'imageToMask', image: new Float32Array(H * W) },
        },
        (f) => {
          if (f.index === 0) throw new Error('UI broke');
        },
      );
      await expect(bad).rejects.toThrow('UI broke');
      expect(made.length).toBeGreaterThan(0);
      expect(made.filter((t) => t.location !== 'none').length).toBe(0);
    } finally {
      await pair.release();
    }
  });
});

describe.skipIf(!hasGraphs)('loading the step graphs', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pig-steps-'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('checks the sessions’ input and output names against the manifest', async () => {
    // the image step graph listed as maskStep (hash and size match the file): its session has
    // inputs y_t, c, … where the manifest promises x_t, y_t, …
    const dir = join(work, 'swapped');
    await cp(modelDir, dir, { recursive: true });
    const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    m.models.maskStep = {
      ...m.models.maskStep,
      file: m.models.imageStep.file,
      sha256: m.models.imageStep.sha256,
      bytes: m.models.imageStep.bytes,
      weights: m.models.imageStep.weights,
    };
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(m));
    const e = await loadStepPairFromDir(dir, { warmUp: false }).then(
      async (p) => {
        await p.release();
        throw new Error('expected the load to fail');
      },
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(EngineError);
    expect((e as EngineError).kind).toBe('model');
    expect((e as EngineError).message).toContain(`${m.models.imageStep.file} (maskStep model) has no input "x_t" listed in the manifest`);
    expect((e as EngineError).message).toContain(`${m.models.imageStep.file} (maskStep model) has no output "x_prev" listed in the manifest`);
  });

  it('a manifest without step graphs is refused by name (the plain path is loadPairFromDir)', async () => {
    const dir = join(work, 'plain');
    await cp(modelDir, dir, { recursive: true });
    const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    delete m.models.maskStep;
    delete m.models.imageStep;
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(m));
    await expect(loadStepPairFromDir(dir)).rejects.toThrow(/lists no step graphs/);
  });
});

// The committed graphs with their clip input turned into a constant 0: graphs as exported before
// the option (same maths for clip none), with the manifest entries to match.
const WITHOUT_CLIP = `
import sys, onnx, numpy as np
from onnx import numpy_helper
for path in sys.argv[1:]:
    m = onnx.load(path)
    for i in [i for i in m.graph.input if i.name == "clip"]:
        m.graph.input.remove(i)
        m.graph.initializer.append(numpy_helper.from_array(np.zeros([1], np.float32), "clip"))
    onnx.save(m, path)
print("{}")
`;

async function withoutClipInput(dir: string): Promise<void> {
  const m: Manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
  const specs = [m.models.maskStep!, m.models.imageStep!];
  runPythonJson(WITHOUT_CLIP, ...specs.map((spec) => join(dir, spec.file)));
  for (const spec of specs) {
    const bytes = await readFile(join(dir, spec.file));
    Object.assign(spec, { sha256: await sha256Hex(bytes), bytes: bytes.length, inputs: spec.inputs.filter((i) => i.name !== 'clip') });
  }
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(m));
}

describe.skipIf(!hasGraphs || !pythonHas('onnx', 'numpy'))('step graphs exported without the clip input', () => {
  let work: string;
  let steps: LoadedStepPair;
  let plain: LoadedPair;
  let H: number;
  let W: number;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pig-noclip-'));
    await cp(modelDir, work, { recursive: true });
    await withoutClipInput(work);
    steps = await loadStepPairFromDir(work, { intraOpNumThreads: 1 });
    plain = await loadPairFromDir(work, { intraOpNumThreads: 1 });
    [H, W] = steps.manifest.resolution;
  });
  afterAll(async () => {
    await steps?.release();
    await plain?.release();
    await rm(work, { recursive: true, force: true });
  });
  const base = () => ({ schedule: steps.schedule, height: H, width: W, steps: 3, seed: 4, eta: 1 });

  it('run clip none on the graphs', async () => {
    const info = vi.spyOn(console, 'info').mockImplementation(() => undefined);
    try {
      const a = await runSampler({ ...base(), executor: steps.executors, clip: 'none' });
      const b = await runSampler({ ...base(), denoiser: plain.denoiser });
      expect(info).not.toHaveBeenCalled();
      // the graphs' float32 update, not core's float64 one: close, not identical
      expect(maxAbsDiff(a.image, b.image)).toBeLessThan(1e-3);
      expect(maxAbsDiff(a.image, b.image)).toBeGreaterThan(0);
    } finally {
      info.mockRestore();
    }
  });

  it('send a run that clips to the plain U-Nets (opened then), which give core’s pair bit for bit', async () => {
    const info = vi.spyOn(console, 'info').mockImplementation(() => undefined);
    try {
      for (const clip of ['image', 'both'] as const) {
        const a = await runSampler({ ...base(), executor: steps.executors, clip });
        const b = await runSampler({ ...base(), denoiser: plain.denoiser, clip });
        expect([Array.from(a.mask), Array.from(a.image)], clip).toEqual([Array.from(b.mask), Array.from(b.image)]);
      }
      expect(info.mock.calls.map((c) => String(c[0]))).toEqual([
        `[engine] clip image: ${steps.manifest.models.imageStep!.file} has no clip input (exported before the option); this run uses the plain U-Nets`,
        `[engine] clip both: ${steps.manifest.models.maskStep!.file} and ${steps.manifest.models.imageStep!.file} have no clip input (exported before the option); this run uses the plain U-Nets`,
      ]);
    } finally {
      info.mockRestore();
    }
  });

  it('without the plain U-Nets to fall back on, a run that clips is refused by name, never run unclipped', async () => {
    const source = fileSource(work);
    const manifest = await readManifest(source);
    const bytes = await readModelBytes(source, manifest, ['maskStep', 'imageStep'] as const);
    const pair = await createStepPair(
      ortNode as unknown as OrtModule,
      manifest,
      bytes,
      { executionProviders: ['cpu'], intraOpNumThreads: 1 },
      () => cpuPlace(ortNode as unknown as OrtModule),
      { warmUp: false },
    );
    try {
      const run = runSampler({ ...base(), executor: pair.executors, clip: 'image' });
      await expect(run).rejects.toBeInstanceOf(EngineError);
      await expect(run).rejects.toThrow(
        `clip image: ${manifest.models.imageStep!.file} has no clip input (exported before the option); run it on the plain U-Nets`,
      );
    } finally {
      await pair.release();
    }
  });
});
