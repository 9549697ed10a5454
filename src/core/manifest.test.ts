import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  attributesOf,
  chainGrid,
  checkSessionSignature,
  latentOf,
  listedFiles,
  ManifestError,
  type ModelFileSpec,
  modelKeys,
  samplerClip,
  samplerGuidance,
  sha256Hex,
  stepGraphs,
  takesClip,
  validateManifest,
  verifyModelBytes,
  verifyWeightsBytes,
  weightsUsers,
} from './manifest';

const model = (file: string): ModelFileSpec => ({
  file,
  sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
  bytes: 3,
  inputs: [
    { name: 'x', shape: [1, 2, 32, 32] },
    { name: 't', shape: [1] },
  ],
  outputs: [{ name: 'eps', shape: [1, 1, 32, 32] }],
});

const good = () => ({
  format: 1,
  name: 'tiny',
  resolution: [32, 32],
  schedule: { kind: 'linear', betaStart: 0.0001, betaEnd: 0.02, T: 1024 },
  sampler: { steps: 8, skip: 'uniform', eta: 0, binarize: { kernel: 5, weights: [0.75, 0.25] } },
  models: { mask: model('mask.onnx'), image: model('image.onnx') },
  card: { data: 'synthetic', license: 'MIT' },
  somethingNew: { allowed: true },
});

/** A step graph entry per contracts.md §1b. */
const stepModel = (file: string, inputs: string[], outputs: string[]): ModelFileSpec => {
  const shape = (n: string) => (n === 't' || n === 'clip' ? [1] : n === 'k' ? [5] : [1, 1, 32, 32]);
  return {
    file,
    sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    bytes: 3,
    inputs: inputs.map((name) => ({ name, shape: shape(name) })),
    outputs: outputs.map((name) => ({ name, shape: shape(name) })),
  };
};
const withSteps = () => {
  const m = good() as Record<string, any>;
  m.models.maskStep = stepModel('mask_step.onnx', ['x_t', 'y_t', 't', 'k', 'z'], ['x_prev', 'x0', 'c']);
  m.models.imageStep = stepModel('image_step.onnx', ['y_t', 'c', 't', 'k', 'z'], ['y_prev', 'y0']);
  return m;
};

function problems(m: unknown): string[] {
  try {
    validateManifest(m);
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(ManifestError);
    return (e as ManifestError).problems;
  }
}

describe('validateManifest', () => {
  it('accepts the contract example, extra fields included', () => {
    const m = validateManifest(good());
    expect(m.resolution).toEqual([32, 32]);
    expect(m.models.image.file).toBe('image.onnx');
  });
  it('names a missing field', () => {
    const m = good() as Record<string, any>;
    delete m.models.mask.sha256;
    expect(problems(m)).toEqual(['manifest.models.mask.sha256 is missing']);
    expect(() => validateManifest(m)).toThrow('manifest.models.mask.sha256 is missing');
  });
  it('names mistyped fields, all of them at once', () => {
    const m = good() as Record<string, any>;
    m.format = 3;
    m.resolution = [32];
    m.sampler.steps = 'eight';
    m.models.image.sha256 = 'XYZ';
    m.schedule.T = 0;
    const p = problems(m);
    expect(p).toContain('manifest.format must be 1 or 2, got 3');
    expect(p.some((s) => s.startsWith('manifest.resolution must be an array of 2 integers from 1 to 4096'))).toBe(true);
    expect(p).toContain('manifest.sampler.steps must be a number, got string');
    expect(p.some((s) => s.startsWith('manifest.models.image.sha256 must be 64 lowercase hex digits'))).toBe(true);
    expect(p).toContain('manifest.schedule.T must be ≥ 1, got 0');
  });
  it('checks the U-Net contract shapes against the resolution', () => {
    const m = good() as Record<string, any>;
    m.models.mask.inputs[0].shape = [1, 1, 32, 32];
    m.models.image.outputs[0].name = 'out';
    const p = problems(m);
    expect(p).toContain('manifest.models.mask.inputs "x" must have shape [1,2,32,32], got [1,1,32,32]');
    expect(p).toContain('manifest.models.image.outputs has no tensor named "eps" (found "out")');
  });
  it('rejects file names that leave the model folder', () => {
    const m = good() as Record<string, any>;
    m.models.mask.file = '../secret.onnx';
    expect(problems(m)[0]).toMatch(/^manifest.models.mask.file must be a plain file name/);
    m.models.mask.file = '..';
    expect(problems(m)).toEqual(['manifest.models.mask.file must be a plain file name in the model folder (letters, digits, . _ -), got ".."']);
  });
  it('rejects non-objects', () => {
    expect(problems(null)).toEqual(['manifest must be a JSON object, got null']);
  });
});

describe('weights files (contracts.md §2, weights)', () => {
  const weights = (file: string, sha = 'a'.repeat(64), bytes = 1000) => ({ file, bytes, sha256: sha });
  /** The shared layout: each U-Net's plain and step graph name one weights file. */
  const shared = () => {
    const m = withSteps();
    m.models.mask.weights = weights('mask.weights');
    m.models.maskStep.weights = weights('mask.weights');
    m.models.image.weights = weights('image.weights', 'b'.repeat(64), 2000);
    m.models.imageStep.weights = weights('image.weights', 'b'.repeat(64), 2000);
    return m;
  };

  it('are optional: an old manifest (graphs that hold their weights) stays valid', () => {
    const m = validateManifest(withSteps());
    expect(m.models.mask.weights).toBeUndefined();
    expect(listedFiles(m).map((f) => f.file)).toEqual(['mask.onnx', 'image.onnx', 'mask_step.onnx', 'image_step.onnx']);
  });
  it('a U-Net’s graphs share one: every file listed once, graphs first', () => {
    const m = validateManifest(shared());
    expect(listedFiles(m)).toEqual([
      { file: 'mask.onnx', sha256: m.models.mask.sha256, bytes: 3 },
      { file: 'image.onnx', sha256: m.models.image.sha256, bytes: 3 },
      { file: 'mask_step.onnx', sha256: m.models.maskStep!.sha256, bytes: 3 },
      { file: 'image_step.onnx', sha256: m.models.imageStep!.sha256, bytes: 3 },
      { file: 'mask.weights', sha256: 'a'.repeat(64), bytes: 1000 },
      { file: 'image.weights', sha256: 'b'.repeat(64), bytes: 2000 },
    ]);
    expect(weightsUsers(m, 'mask.weights')).toEqual(['mask', 'maskStep']);
  });
  it('are validated field by field: a name with a folder in it, a bad sha256, no bytes', () => {
    const m = shared();
    m.models.mask.weights.file = '../mask.weights';
    m.models.image.weights.sha256 = 'XYZ';
    delete m.models.imageStep.weights.bytes;
    m.models.maskStep.weights = 'mask.weights';
    expect(problems(m)).toEqual([
      'manifest.models.mask.weights.file must be a plain file name in the model folder (letters, digits, . _ -), got "../mask.weights"',
      'manifest.models.image.weights.sha256 must be 64 lowercase hex digits, got "XYZ"',
      'manifest.models.maskStep.weights must be an object, got string',
      'manifest.models.imageStep.weights.bytes is missing',
    ]);
    const dots = shared();
    dots.models.image.weights.file = '..';
    dots.models.imageStep.weights.file = 'sub/image.weights';
    expect(problems(dots)).toEqual([
      'manifest.models.image.weights.file must be a plain file name in the model folder (letters, digits, . _ -), got ".."',
      'manifest.models.imageStep.weights.file must be a plain file name in the model folder (letters, digits, . _ -), got "sub/image.weights"',
    ]);
  });
  it('one file has one size and one SHA-256, and is not a graph or the manifest', () => {
    const m = shared();
    m.models.maskStep.weights.sha256 = 'c'.repeat(64);
    m.models.image.weights.file = 'mask_step.onnx';
    m.models.imageStep.weights.file = 'manifest.json';
    expect(problems(m)).toEqual([
      'manifest.models.image.weights.file "mask_step.onnx" is a model graph or the manifest, not a weights file',
      'manifest.models.maskStep.weights names mask.weights as manifest.models.mask.weights does, but with another bytes or sha256: one file has one size and one SHA-256',
      'manifest.models.imageStep.weights.file "manifest.json" is a model graph or the manifest, not a weights file',
    ]);
  });
  it('verifies a weights file’s bytes, naming the models that keep their tensors in it', async () => {
    const spec = { file: 'mask.weights', bytes: 3, sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' };
    const abc = new TextEncoder().encode('abc');
    await expect(verifyWeightsBytes(['mask', 'maskStep'], spec, abc)).resolves.toBeUndefined();
    await expect(verifyWeightsBytes(['mask', 'maskStep'], spec, abc.subarray(0, 2))).rejects.toThrow(
      'mask.weights (weights of mask, maskStep) is 2 bytes, the manifest says 3: the file is truncated or not the exported weights',
    );
    await expect(verifyWeightsBytes(['mask', 'maskStep'], spec, new TextEncoder().encode('abd'))).rejects.toThrow(
      /^mask\.weights \(weights of mask, maskStep\) has SHA-256 [0-9a-f]{64}, the manifest says ba7816bf.*: the file is corrupt or from another export$/,
    );
  });
});

describe('step graphs (contracts.md §1b)', () => {
  it('are optional; stepGraphs() gives both or none', () => {
    expect(stepGraphs(validateManifest(good()))).toBeNull();
    const m = validateManifest(withSteps());
    expect(stepGraphs(m)?.maskStep.file).toBe('mask_step.onnx');
    expect(stepGraphs(m)?.imageStep.file).toBe('image_step.onnx');
    const one = withSteps();
    delete one.models.imageStep;
    expect(stepGraphs(validateManifest(one))).toBeNull();
  });
  it('are validated field by field like the U-Nets', () => {
    const m = withSteps();
    delete m.models.maskStep.sha256;
    m.models.imageStep.file = '../x.onnx';
    const p = problems(m);
    expect(p).toContain('manifest.models.maskStep.sha256 is missing');
    expect(p.some((s) => s.startsWith('manifest.models.imageStep.file must be a plain file name'))).toBe(true);
    expect(problems({ ...withSteps(), models: { ...withSteps().models, maskStep: 'mask_step.onnx' } })).toEqual([
      'manifest.models.maskStep must be an object, got string',
    ]);
  });
  it('must follow the step contract: names, k of 5, [1,1,H,W] maps', () => {
    const m = withSteps();
    m.models.maskStep.inputs[3].shape = [4];
    m.models.maskStep.outputs[2].name = 'cond';
    m.models.imageStep.inputs[0].shape = [1, 1, 16, 16];
    const p = problems(m);
    expect(p).toContain('manifest.models.maskStep.inputs "k" must have shape [5], got [4]');
    expect(p).toContain('manifest.models.maskStep.outputs has no tensor named "c" (found "x_prev", "x0", "cond")');
    expect(p).toContain('manifest.models.imageStep.inputs "y_t" must have shape [1,1,32,32], got [1,1,16,16]');
  });
});

describe('sampler.clip and the step graphs’ clip input', () => {
  it('is optional, default none; one of the three strings, else an error naming the field', () => {
    expect(samplerClip(validateManifest(good()))).toBe('none');
    for (const clip of ['none', 'image', 'both'] as const) {
      const m = good() as Record<string, any>;
      m.sampler.clip = clip;
      expect(samplerClip(validateManifest(m))).toBe(clip);
    }
    for (const bad of ['Both', 1, null, true]) {
      const m = good() as Record<string, any>;
      m.sampler.clip = bad;
      expect(problems(m)).toEqual([`manifest.sampler.clip must be "none" or "image" or "both", got ${JSON.stringify(bad)}`]);
    }
  });
  it('step graphs are accepted with and without the clip input; where listed it is [1]', () => {
    const old = validateManifest(withSteps());
    expect([takesClip(old.models.maskStep!), takesClip(old.models.imageStep!)]).toEqual([false, false]);
    const m = withSteps();
    m.models.maskStep = stepModel('mask_step.onnx', ['x_t', 'y_t', 't', 'k', 'z', 'clip'], ['x_prev', 'x0', 'c']);
    m.models.imageStep = stepModel('image_step.onnx', ['y_t', 'c', 't', 'k', 'z', 'clip'], ['y_prev', 'y0']);
    const v = validateManifest(m);
    expect([takesClip(v.models.maskStep!), takesClip(v.models.imageStep!)]).toEqual([true, true]);
    m.models.imageStep.inputs[5].shape = [1, 1];
    expect(problems(m)).toEqual(['manifest.models.imageStep.inputs "clip" must have shape [1], got [1,1]']);
  });
  it('a session with the clip input needs a manifest that lists it (and the other way round)', () => {
    const listed = stepModel('mask_step.onnx', ['x_t', 'y_t', 't', 'k', 'z', 'clip'], ['x_prev', 'x0', 'c']);
    const unlisted = stepModel('mask_step.onnx', ['x_t', 'y_t', 't', 'k', 'z'], ['x_prev', 'x0', 'c']);
    const session = (inputs: string[]) => ({ inputNames: inputs, outputNames: ['x_prev', 'x0', 'c'] });
    const withClip = session(['x_t', 'y_t', 't', 'k', 'z', 'clip']);
    const without = session(['x_t', 'y_t', 't', 'k', 'z']);
    expect(checkSessionSignature('maskStep', listed, withClip)).toEqual([]);
    expect(checkSessionSignature('maskStep', unlisted, without)).toEqual([]);
    expect(checkSessionSignature('maskStep', unlisted, withClip)).toEqual(['mask_step.onnx (maskStep model) needs an input "clip" the manifest does not list']);
    expect(checkSessionSignature('maskStep', listed, without)[0]).toMatch(/^mask_step.onnx \(maskStep model\) has no input "clip" listed in the manifest/);
  });
});

describe('checkSessionSignature', () => {
  it('passes a matching session and reports mismatches by name', () => {
    const spec = model('mask.onnx');
    expect(checkSessionSignature('mask', spec, { inputNames: ['x', 't'], outputNames: ['eps'] })).toEqual([]);
    const p = checkSessionSignature('mask', spec, {
      inputNames: ['x', 'timestep'],
      outputNames: ['eps'],
      inputMetadata: [{ name: 'x', shape: [1, 2, 64, 64] }],
    });
    expect(p).toContain('mask.onnx (mask model) has no input "t" listed in the manifest; it has "x", "timestep"');
    expect(p).toContain('mask.onnx (mask model) input "x" has shape [1,2,64,64], the manifest says [1,2,32,32]');
    expect(p).toContain('mask.onnx (mask model) needs an input "timestep" the manifest does not list');
  });
});

describe('sha256', () => {
  it('hashes "abc" to the FIPS 180-2 test vector', async () => {
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
  it('verifies bytes against the manifest', async () => {
    const spec = model('mask.onnx');
    await expect(verifyModelBytes('mask', spec, new TextEncoder().encode('abc'))).resolves.toBeUndefined();
    await expect(verifyModelBytes('mask', spec, new TextEncoder().encode('abd'))).rejects.toThrow(
      /mask.onnx \(mask model\) has SHA-256 .* the file is corrupt/,
    );
    await expect(verifyModelBytes('mask', spec, new TextEncoder().encode('ab'))).rejects.toThrow(/is 2 bytes, the manifest says 3/);
  });
});

describe('format 2 (contracts.md §6)', () => {
  const base = () => JSON.parse(readFileSync(new URL('../../fixtures/manifests/bases/latent-attributes.json', import.meta.url), 'utf8'));
  it('reads the latent, the attributes and the guidance of a format-2 manifest', () => {
    const m = validateManifest({ ...base(), sampler: { ...base().sampler, guidance: 3 } });
    expect(latentOf(m)?.channels).toBe(4);
    expect(chainGrid(m)).toEqual([16, 16]);
    expect(attributesOf(m).map((a) => a.name)).toEqual(['pathology', 'birads']);
    expect(samplerGuidance(m)).toBe(3);
    expect(modelKeys(m)).toEqual(['mask', 'image', 'encoder', 'decoder']);
    expect(listedFiles(m).map((f) => f.file)).toEqual(['mask.onnx', 'image.onnx', 'encoder.onnx', 'decoder.onnx', 'mask.weights', 'image.weights']);
  });
  it('a format-1 manifest’s fields of those names are extras nothing reads', () => {
    const m = validateManifest({ ...good(), latent: base().latent, attributes: base().attributes, sampler: { ...good().sampler, guidance: 5 } });
    expect([latentOf(m), attributesOf(m), samplerGuidance(m), chainGrid(m)]).toEqual([null, [], 1, [32, 32]]);
    expect(modelKeys(m)).toEqual(['mask', 'image', 'maskStep', 'imageStep']);
  });
});
