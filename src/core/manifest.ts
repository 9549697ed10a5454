// The model manifest, formats 1 and 2 (docs/contracts.md §2 and §6): types, validation with
// messages that name the field, a check of an ONNX session's inputs/outputs against it, and sha256
// verification. Unknown extra fields are allowed (forward compatibility). Format 2 adds a latent
// image chain (`latent`, models `encoder` and `decoder`) and attributes (`attributes`, the U-Nets'
// input `a`, `sampler.guidance`); a format-1 manifest means what it always meant, and its fields of
// those names, if any, are unknown extras that nothing reads (latentOf, attributesOf).

import { CLIP_MODES, type ClipMode } from './ddim';
import {
  ETA_MAX,
  ETA_MIN,
  GUIDANCE_MAX,
  GUIDANCE_MIN,
  MAX_ATTRIBUTE_NAME_CHARS,
  MAX_ATTRIBUTE_VALUE_CHARS,
  MAX_ATTRIBUTE_VALUES,
  MAX_ATTRIBUTES,
  MAX_CARD_CHARS,
  MAX_LATENT_CHANNELS,
  MAX_LATENT_FACTOR,
  MAX_MANIFEST_DEPTH,
  MAX_RESOLUTION,
  MAX_T,
} from './limits';

export interface TensorSpec {
  name: string;
  shape: number[];
}

/**
 * A weights file (contracts.md §2): ONNX external data that a model graph keeps its large tensors
 * in, one per U-Net, named alike by its plain graph and its step graph.
 */
export interface WeightsFileSpec {
  file: string;
  bytes: number;
  sha256: string;
}

export interface ModelFileSpec {
  file: string;
  sha256: string;
  bytes: number;
  /** Where the graph keeps its large tensors (absent: the graph holds them all). */
  weights?: WeightsFileSpec;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

/** One file of a model folder as the manifest lists it: a graph or a weights file. */
export interface ListedFile {
  file: string;
  sha256: string;
  bytes?: number;
}

/** The image chain on an autoencoder's latent (contracts.md §6a). */
export interface LatentSpec {
  /** C, the latent's channels */
  channels: number;
  /** f: the grid is [H/f, W/f] */
  factor: number;
  /** [h, w], where both chains run */
  grid: [number, number];
  /** s: the encoder's output is s·μ_E(y) (the scale is inside the graphs) */
  scale: number;
  /** The linear latent → gray map of the step previews: Σ_c weights[c]·ẑ₀[c] + bias. */
  preview: { weights: number[]; bias: number };
}

/** One attribute a model is conditioned on (contracts.md §6b): its values, without "any". */
export interface AttributeSpec {
  name: string;
  values: string[];
}

export interface Manifest {
  format: 1 | 2;
  name: string;
  /** [H, W]: the image's size (in format 1 also where the chains run; latent models run at latent.grid) */
  resolution: [number, number];
  /** Format 2 only: read it through latentOf. */
  latent?: LatentSpec;
  /** Format 2 only: read them through attributesOf. */
  attributes?: AttributeSpec[];
  schedule: { kind: 'linear'; betaStart: number; betaEnd: number; T: number };
  sampler: {
    steps: number;
    skip: 'uniform';
    eta: number;
    /** Which chains clip their estimate by default (optional; samplerClip reads it, default 'none'). */
    clip?: ClipMode;
    /** Format 2: the default classifier-free guidance w (samplerGuidance; absent: 1). */
    guidance?: number;
    binarize: { kernel: number; weights: [number, number] };
  };
  models: {
    mask: ModelFileSpec;
    image: ModelFileSpec;
    /** Optional whole-step graphs (contracts.md §1b); used only when both are present. */
    maskStep?: ModelFileSpec;
    imageStep?: ModelFileSpec;
    /** Format 2 with latent: y [1,1,H,W] → z = s·μ_E(y) [1,C,h,w], and back (contracts.md §6a). */
    encoder?: ModelFileSpec;
    decoder?: ModelFileSpec;
  };
  card: Record<string, unknown>;
  [extra: string]: unknown;
}

/** The plain U-Nets (contracts.md §1). */
export type ModelRole = 'mask' | 'image';
/** The whole-step graphs (contracts.md §1b). */
export type StepGraphRole = 'maskStep' | 'imageStep';
/** The autoencoder's graphs (contracts.md §6a). */
export type CodecRole = 'encoder' | 'decoder';
/** Any model file a manifest lists. */
export type ModelKey = ModelRole | StepGraphRole | CodecRole;
export const STEP_GRAPH_ROLES: readonly StepGraphRole[] = ['maskStep', 'imageStep'];
const CODEC_ROLES: readonly CodecRole[] = ['encoder', 'decoder'];
/** Every model a manifest may list, in manifest order: format 1's, then format 2's. */
const FORMAT_1_KEYS: readonly ModelKey[] = ['mask', 'image', ...STEP_GRAPH_ROLES];
const LATENT_KEYS: readonly ModelKey[] = ['mask', 'image', ...CODEC_ROLES];

/**
 * The models a manifest may list, in manifest order: format 1's U-Nets and step graphs; format 2's
 * U-Nets and, with a latent, the autoencoder (format 2 has no step graphs, format 1 no autoencoder).
 */
export function modelKeys(manifest: Manifest): readonly ModelKey[] {
  return manifest.format === 2 ? (latentOf(manifest) ? LATENT_KEYS : LATENT_KEYS.slice(0, 2)) : FORMAT_1_KEYS;
}

/** The latent of a format-2 manifest that has one (null: the chains run in pixels at `resolution`). */
export function latentOf(manifest: Manifest): LatentSpec | null {
  return manifest.format === 2 ? (manifest.latent ?? null) : null;
}

/** The attributes of a format-2 manifest that has them ([] when the model takes none). */
export function attributesOf(manifest: Manifest): readonly AttributeSpec[] {
  return manifest.format === 2 ? (manifest.attributes ?? []) : [];
}

/** The manifest's default guidance w (absent, or format 1: 1, no guidance). */
export function samplerGuidance(manifest: Manifest): number {
  return manifest.format === 2 ? (manifest.sampler.guidance ?? 1) : 1;
}

/** Where both chains run: the latent's grid, or `resolution` for a pixel-space model. */
export function chainGrid(manifest: Manifest): [number, number] {
  return latentOf(manifest)?.grid ?? manifest.resolution;
}

/** K = Σᵢ (nᵢ + 1): the length of the U-Nets' one-hot input `a` (contracts.md §6b). */
export function attributeCodeLength(attributes: readonly AttributeSpec[]): number {
  return attributes.reduce((k, a) => k + a.values.length + 1, 0);
}

/**
 * Inputs and outputs every step graph has, in contract order (contracts.md §1b); k has 5 values.
 * Graphs exported since the sampler option clip also take STEP_GRAPH_CLIP_INPUT; older ones do not.
 */
export const STEP_GRAPH_IO: Record<StepGraphRole, { inputs: readonly string[]; outputs: readonly string[] }> = {
  maskStep: { inputs: ['x_t', 'y_t', 't', 'k', 'z'], outputs: ['x_prev', 'x0', 'c'] },
  imageStep: { inputs: ['y_t', 'c', 't', 'k', 'z'], outputs: ['y_prev', 'y0'] },
};

/** The optional step-graph input [1]: 1 = clip this chain's estimate, 0 = do not. */
export const STEP_GRAPH_CLIP_INPUT = 'clip';

/** The shape of a step graph's tensor: t and clip [1], k [5], every image tensor [1, 1, H, W]. */
export function stepGraphShape(name: string, [H, W]: readonly [number, number]): number[] {
  return name === 't' || name === STEP_GRAPH_CLIP_INPUT ? [1] : name === 'k' ? [5] : [1, 1, H, W];
}

/** Whether a step graph takes the clip input (graphs exported before the option do not). */
export function takesClip(spec: ModelFileSpec): boolean {
  return spec.inputs.some((s) => s.name === STEP_GRAPH_CLIP_INPUT);
}

/** The manifest's default `clip` (absent: 'none', the paper's loop). */
export function samplerClip(manifest: Manifest): ClipMode {
  return manifest.sampler.clip ?? 'none';
}

/** The B(·) settings baked into the kit's step graphs (its `binarize` defaults). */
export const STEP_GRAPH_BINARIZE = { kernel: 5, weights: [0.75, 0.25] as const };

export class ManifestError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.length === 1 ? problems[0] : `invalid manifest:\n- ${problems.join('\n- ')}`);
    this.name = 'ManifestError';
    this.problems = problems;
  }
}

type Obj = Record<string, unknown>;
/** A number's bounds; `why` is said with the upper bound (what a larger value would do). */
interface NumberRule {
  integer?: boolean;
  min?: number;
  max?: number;
  exclusiveMin?: boolean;
  exclusiveMax?: boolean;
  why?: string;
}
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);

class Checker {
  problems: string[] = [];

  field(obj: Obj, key: string, path: string): unknown {
    if (!(key in obj) || obj[key] === undefined) {
      this.problems.push(`${path}.${key} is missing`);
      return undefined;
    }
    return obj[key];
  }

  object(obj: Obj, key: string, path: string): Obj | undefined {
    const v = this.field(obj, key, path);
    if (v === undefined) return undefined;
    if (!isObj(v)) {
      this.problems.push(`${path}.${key} must be an object, got ${typeName(v)}`);
      return undefined;
    }
    return v;
  }

  string(obj: Obj, key: string, path: string, pattern?: RegExp, what?: string): string | undefined {
    const v = this.field(obj, key, path);
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.length === 0) {
      this.problems.push(`${path}.${key} must be a non-empty string, got ${typeName(v)}`);
      return undefined;
    }
    if (pattern && !pattern.test(v)) {
      this.problems.push(`${path}.${key} must be ${what}, got "${v.slice(0, 80)}"`);
      return undefined;
    }
    return v;
  }

  number(obj: Obj, key: string, path: string, opts: NumberRule = {}): number | undefined {
    const v = this.field(obj, key, path);
    if (v === undefined) return undefined;
    if (typeof v !== 'number') {
      this.problems.push(`${path}.${key} must be a number, got ${typeName(v)}`);
      return undefined;
    }
    if (!Number.isFinite(v)) {
      this.problems.push(`${path}.${key} must be a finite number, got ${v}`);
      return undefined;
    }
    if (opts.integer && !Number.isInteger(v)) {
      this.problems.push(`${path}.${key} must be an integer, got ${v}`);
      return undefined;
    }
    if (opts.min !== undefined && (opts.exclusiveMin ? v <= opts.min : v < opts.min)) {
      this.problems.push(`${path}.${key} must be ${opts.exclusiveMin ? '>' : '≥'} ${opts.min}, got ${v}`);
      return undefined;
    }
    if (opts.max !== undefined && (opts.exclusiveMax ? v >= opts.max : v > opts.max)) {
      this.problems.push(`${path}.${key} must be ${opts.exclusiveMax ? '<' : '≤'} ${opts.max}${opts.why ? ` (${opts.why})` : ''}, got ${v}`);
      return undefined;
    }
    return v;
  }

  literal<T extends string | number>(obj: Obj, key: string, path: string, allowed: readonly T[]): T | undefined {
    const v = this.field(obj, key, path);
    if (v === undefined) return undefined;
    if (!allowed.includes(v as T)) {
      this.problems.push(`${path}.${key} must be ${allowed.map((a) => JSON.stringify(a)).join(' or ')}, got ${JSON.stringify(v)}`);
      return undefined;
    }
    return v as T;
  }

  /** `length` numbers; with `maxInteger`, positive integers up to it. */
  numberTuple(obj: Obj, key: string, path: string, length: number, maxInteger?: number): number[] | undefined {
    const v = this.field(obj, key, path);
    if (v === undefined) return undefined;
    const integer = maxInteger !== undefined;
    if (
      !Array.isArray(v) ||
      v.length !== length ||
      !v.every((x) => typeof x === 'number' && Number.isFinite(x) && (!integer || (Number.isInteger(x) && x > 0 && x <= maxInteger)))
    ) {
      const what = integer ? `integers from 1 to ${maxInteger}` : 'finite numbers';
      this.problems.push(`${path}.${key} must be an array of ${length} ${what}, got ${JSON.stringify(v)}`);
      return undefined;
    }
    return v as number[];
  }

  tensorList(obj: Obj, key: string, path: string): TensorSpec[] | undefined {
    const v = this.field(obj, key, path);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length === 0) {
      this.problems.push(`${path}.${key} must be a non-empty array of { name, shape }`);
      return undefined;
    }
    const out: TensorSpec[] = [];
    v.forEach((item, i) => {
      const p = `${path}.${key}[${i}]`;
      if (!isObj(item)) {
        this.problems.push(`${p} must be an object { name, shape }, got ${typeName(item)}`);
        return;
      }
      const name = this.string(item, 'name', p);
      const shape = this.field(item, 'shape', p);
      if (shape !== undefined && (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d > 0))) {
        this.problems.push(`${p}.shape must be an array of positive integers (static shapes), got ${JSON.stringify(shape)}`);
        return;
      }
      if (name !== undefined && shape !== undefined) out.push({ name, shape: shape as number[] });
    });
    return out;
  }
}

/** A file in the model folder itself: letters, digits, . _ -, and not "." or "..". */
export const FILE_NAME = /^(?!\.+$)[A-Za-z0-9._-]+$/;
const FILE_NAME_WHAT = 'a plain file name in the model folder (letters, digits, . _ -)';
const SHA256 = /^[0-9a-f]{64}$/;

/** Validates parsed JSON as a format-1 or format-2 manifest; throws ManifestError naming every bad field. */
export function validateManifest(json: unknown): Manifest {
  const c = new Checker();
  const root = 'manifest';
  if (!isObj(json)) throw new ManifestError([`${root} must be a JSON object, got ${typeName(json)}`]);
  const format = c.literal(json, 'format', root, [1, 2] as const);
  c.string(json, 'name', root);
  const res = c.numberTuple(json, 'resolution', root, 2, MAX_RESOLUTION);

  const schedule = c.object(json, 'schedule', root);
  if (schedule) {
    const p = `${root}.schedule`;
    c.literal(schedule, 'kind', p, ['linear'] as const);
    // 0 < β < 1: ᾱ is the product of (1 − β), and β = 1 makes it 0 for every later step
    const beta: NumberRule = { min: 0, exclusiveMin: true, max: 1, exclusiveMax: true };
    const b0 = c.number(schedule, 'betaStart', p, beta);
    const b1 = c.number(schedule, 'betaEnd', p, beta);
    c.number(schedule, 'T', p, { integer: true, min: 1, max: MAX_T, why: 'the longest schedule the studio, the CLI and the kit take' });
    if (b0 !== undefined && b1 !== undefined && b1 < b0) c.problems.push(`${p}.betaEnd (${b1}) must be ≥ betaStart (${b0})`);
  }

  const sampler = c.object(json, 'sampler', root);
  if (sampler) {
    const p = `${root}.sampler`;
    const steps = c.number(sampler, 'steps', p, { integer: true, min: 1, max: MAX_T });
    const T = schedule && typeof schedule.T === 'number' ? schedule.T : undefined;
    if (steps !== undefined && T !== undefined && steps > T) c.problems.push(`${p}.steps (${steps}) must be ≤ schedule.T (${T})`);
    c.literal(sampler, 'skip', p, ['uniform'] as const);
    c.number(sampler, 'eta', p, { min: ETA_MIN, max: ETA_MAX, why: 'η: 0 is deterministic DDIM, 1 DDPM-like; past 1 the chains saturate' });
    if (sampler.clip !== undefined) c.literal(sampler, 'clip', p, CLIP_MODES);
    if (format === 2 && sampler.guidance !== undefined)
      c.number(sampler, 'guidance', p, {
        min: GUIDANCE_MIN,
        max: GUIDANCE_MAX,
        why: 'classifier-free guidance w: 1 is none, past 20 the guided ε only saturates',
      });
    const bin = c.object(sampler, 'binarize', p);
    if (bin) {
      const q = `${p}.binarize`;
      const k = c.number(bin, 'kernel', q, { integer: true, min: 1 });
      if (k !== undefined && k % 2 !== 1) c.problems.push(`${q}.kernel must be odd, got ${k}`);
      c.numberTuple(bin, 'weights', q, 2);
    }
  }

  // format 2's capabilities; shapes stays null where a bad field leaves the models' shapes unknown
  let shapes: ChainShapes | null = res ? { res: res as [number, number], grid: res as [number, number], channels: 1, codeLength: 0 } : null;
  let keys = FORMAT_1_KEYS;
  if (format === 2) {
    if (json.latent === undefined && json.attributes === undefined)
      c.problems.push(`${root}.format is 2 but the manifest has neither latent nor attributes: format 2 adds one or both (docs/contracts.md §6)`);
    if (json.latent !== undefined) {
      keys = LATENT_KEYS;
      const latent = checkLatent(c, json, res as [number, number] | undefined);
      shapes = latent && shapes ? { ...shapes, grid: latent.grid, channels: latent.channels } : null;
    } else keys = LATENT_KEYS.slice(0, 2);
    if (json.attributes !== undefined) {
      const attributes = checkAttributes(c, json.attributes);
      shapes = attributes && shapes ? { ...shapes, codeLength: attributeCodeLength(attributes) } : null;
    }
  }

  const models = c.object(json, 'models', root);
  if (models) {
    if (format === 2)
      for (const role of STEP_GRAPH_ROLES)
        if (models[role] !== undefined)
          c.problems.push(`${root}.models.${role}: format 2 has no step graphs (they are a format-1 option, docs/contracts.md §1b)`);
    for (const role of keys) {
      const optional = role === 'maskStep' || role === 'imageStep';
      if (optional && models[role] === undefined) continue;
      const m = c.object(models, role, `${root}.models`);
      if (!m) continue;
      const p = `${root}.models.${role}`;
      c.string(m, 'file', p, FILE_NAME, FILE_NAME_WHAT);
      c.string(m, 'sha256', p, SHA256, '64 lowercase hex digits');
      c.number(m, 'bytes', p, { integer: true, min: 1 });
      if (m.weights !== undefined) {
        const w = c.object(m, 'weights', p);
        if (w) {
          c.string(w, 'file', `${p}.weights`, FILE_NAME, FILE_NAME_WHAT);
          c.number(w, 'bytes', `${p}.weights`, { integer: true, min: 1 });
          c.string(w, 'sha256', `${p}.weights`, SHA256, '64 lowercase hex digits');
        }
      }
      const inputs = c.tensorList(m, 'inputs', p);
      const outputs = c.tensorList(m, 'outputs', p);
      if (!shapes || !inputs || !outputs) continue;
      if (optional) checkStepGraphContract(c.problems, p, role, inputs, outputs, shapes.res);
      else checkGraphContract(c.problems, p, role as ModelRole | CodecRole, inputs, outputs, shapes);
    }
  }

  if (models && c.problems.length === 0) checkWeightsFiles(c.problems, models as Manifest['models'], keys);

  const card = json.card;
  if (card !== undefined && !isObj(card)) c.problems.push(`${root}.card must be an object, got ${typeName(card)}`);
  else if (card === undefined) c.problems.push(`${root}.card is missing`);
  checkSize(c.problems, json);

  if (c.problems.length) throw new ManifestError(c.problems);
  return json as unknown as Manifest;
}

/** How deep `v` nests objects and arrays, counting up to `limit` + 1 at most (so a deep value costs no more). */
function depth(v: unknown, limit: number): number {
  if (typeof v !== 'object' || v === null) return 0;
  if (limit < 0) return 1;
  let most = 0;
  for (const x of Object.values(v)) most = Math.max(most, depth(x, limit - 1));
  return 1 + most;
}

/** Every top-level value nests at most MAX_MANIFEST_DEPTH deep, and the card's JSON is at most MAX_CARD_CHARS. */
function checkSize(problems: string[], json: Obj): void {
  for (const [key, v] of Object.entries(json)) {
    if (depth(v, MAX_MANIFEST_DEPTH) > MAX_MANIFEST_DEPTH) problems.push(`manifest.${key} nests objects and arrays more than ${MAX_MANIFEST_DEPTH} deep`);
  }
  if (!isObj(json.card) || depth(json.card, MAX_MANIFEST_DEPTH) > MAX_MANIFEST_DEPTH) return;
  const chars = JSON.stringify(json.card).length;
  if (chars > MAX_CARD_CHARS)
    problems.push(`manifest.card is ${chars} characters of JSON, more than ${MAX_CARD_CHARS}: keep long text in the folder's README.md`);
}

/**
 * Weights files across the models (once each entry is valid): a file named by several graphs (a
 * U-Net's plain and step graph) has one size and one SHA-256, and is not a graph or the manifest.
 */
function checkWeightsFiles(problems: string[], models: Manifest['models'], keys: readonly ModelKey[]): void {
  const roles = keys.filter((k) => models[k] !== undefined);
  const graphs = new Set(['manifest.json', ...roles.map((k) => models[k]!.file)]);
  const first = new Map<string, ModelKey>();
  for (const role of roles) {
    const w = models[role]!.weights;
    if (!w) continue;
    const p = `manifest.models.${role}.weights`;
    if (graphs.has(w.file)) {
      problems.push(`${p}.file "${w.file}" is a model graph or the manifest, not a weights file`);
      continue;
    }
    const other = first.get(w.file);
    if (other === undefined) first.set(w.file, role);
    else {
      const o = models[other]!.weights!;
      if (o.bytes !== w.bytes || o.sha256 !== w.sha256)
        problems.push(`${p} names ${w.file} as manifest.models.${other}.weights does, but with another bytes or sha256: one file has one size and one SHA-256`);
    }
  }
}

function wantTensor(problems: string[], path: string, list: TensorSpec[], name: string, shape: number[], where: string): void {
  const s = list.find((x) => x.name === name);
  if (!s) problems.push(`${path}.${where} has no tensor named "${name}" (found ${list.map((x) => `"${x.name}"`).join(', ')})`);
  else if (s.shape.join(',') !== shape.join(',')) problems.push(`${path}.${where} "${name}" must have shape [${shape}], got [${s.shape}]`);
}

/** The sizes a manifest's graphs are checked against: format 1 is grid = res, 1 channel, no `a`. */
interface ChainShapes {
  res: [number, number];
  grid: [number, number];
  /** C: the image chain's channels */
  channels: number;
  /** K: the length of `a` (0: no attributes) */
  codeLength: number;
}

/**
 * A U-Net (contracts.md §1, §6): x [1, 1 + C, h, w], t [1] (and a [1, K] with attributes) → eps
 * [1, 1, h, w] for the mask, [1, C, h, w] for the image; format 1 is C = 1 at h, w = H, W. Or the
 * autoencoder (§6a): encoder y [1, 1, H, W] → z [1, C, h, w], decoder z → y.
 */
function checkGraphContract(
  problems: string[],
  path: string,
  role: ModelRole | CodecRole,
  inputs: TensorSpec[],
  outputs: TensorSpec[],
  { res: [H, W], grid: [h, w], channels: C, codeLength: K }: ChainShapes,
): void {
  const want = (list: TensorSpec[], name: string, shape: number[], where: string) => wantTensor(problems, path, list, name, shape, where);
  if (role === 'encoder' || role === 'decoder') {
    const [from, to] = role === 'encoder' ? ['y', 'z'] : ['z', 'y'];
    const shape = (name: string) => (name === 'y' ? [1, 1, H, W] : [1, C, h, w]);
    want(inputs, from, shape(from), 'inputs');
    want(outputs, to, shape(to), 'outputs');
    return;
  }
  want(inputs, 'x', [1, 1 + C, h, w], 'inputs');
  want(inputs, 't', [1], 'inputs');
  if (K > 0) want(inputs, ATTRIBUTE_INPUT, [1, K], 'inputs');
  want(outputs, 'eps', [1, role === 'mask' ? 1 : C, h, w], 'outputs');
}

/** The U-Nets' attribute input (contracts.md §6b). */
export const ATTRIBUTE_INPUT = 'a';

/** `manifest.latent` (contracts.md §6a), checked against the resolution; undefined when anything in it is wrong. */
function checkLatent(c: Checker, json: Obj, res: [number, number] | undefined): LatentSpec | undefined {
  const before = c.problems.length;
  const l = c.object(json, 'latent', 'manifest');
  if (!l) return undefined;
  const p = 'manifest.latent';
  const C = c.number(l, 'channels', p, { integer: true, min: 1, max: MAX_LATENT_CHANNELS, why: 'an autoencoder of a slice has a few' });
  const f = c.number(l, 'factor', p, { integer: true, min: 1, max: MAX_LATENT_FACTOR });
  if (f !== undefined && (f & (f - 1)) !== 0) c.problems.push(`${p}.factor must be a power of two, got ${f}`);
  const grid = c.numberTuple(l, 'grid', p, 2, MAX_RESOLUTION);
  c.number(l, 'scale', p, { min: 0, exclusiveMin: true });
  const preview = c.object(l, 'preview', p);
  if (preview) {
    if (C !== undefined) c.numberTuple(preview, 'weights', `${p}.preview`, C);
    c.number(preview, 'bias', `${p}.preview`);
  }
  if (res && f !== undefined && grid && c.problems.length === before) {
    if (res[0] % f !== 0 || res[1] % f !== 0) c.problems.push(`manifest.resolution [${res}] must be a multiple of latent.factor ${f}`);
    else if (grid[0] !== res[0] / f || grid[1] !== res[1] / f)
      c.problems.push(`${p}.grid must be [${res[0] / f},${res[1] / f}] (resolution [${res}] / factor ${f}), got [${grid}]`);
  }
  return c.problems.length === before ? (l as unknown as LatentSpec) : undefined;
}

const ATTRIBUTE_NAME = new RegExp(`^[A-Za-z0-9_-]{1,${MAX_ATTRIBUTE_NAME_CHARS}}$`);
/** "any" in a request means no value (contracts.md §6b), so no attribute has a value of that name. */
export const ANY_VALUE = 'any';

/** `manifest.attributes` (contracts.md §6b); undefined when anything in it is wrong. */
function checkAttributes(c: Checker, v: unknown): AttributeSpec[] | undefined {
  const before = c.problems.length;
  const p = 'manifest.attributes';
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_ATTRIBUTES) {
    c.problems.push(`${p} must be an array of 1 to ${MAX_ATTRIBUTES} { name, values }, got ${Array.isArray(v) ? `${v.length} entries` : typeName(v)}`);
    return undefined;
  }
  const names = new Map<string, number>();
  v.forEach((item, i) => {
    const q = `${p}[${i}]`;
    if (!isObj(item)) {
      c.problems.push(`${q} must be an object { name, values }, got ${typeName(item)}`);
      return;
    }
    const name = c.string(item, 'name', q, ATTRIBUTE_NAME, `1 to ${MAX_ATTRIBUTE_NAME_CHARS} letters, digits, _ or -`);
    if (name !== undefined) {
      const other = names.get(name);
      if (other !== undefined) c.problems.push(`${q}.name "${name}" is also ${p}[${other}].name: each attribute is listed once`);
      else names.set(name, i);
    }
    const values = c.field(item, 'values', q);
    if (values === undefined) return;
    if (!Array.isArray(values) || values.length === 0 || values.length > MAX_ATTRIBUTE_VALUES) {
      c.problems.push(
        `${q}.values must be an array of 1 to ${MAX_ATTRIBUTE_VALUES} values, got ${Array.isArray(values) ? `${values.length} entries` : typeName(values)}`,
      );
      return;
    }
    const seen = new Set<string>();
    values.forEach((value: unknown, j) => {
      const r = `${q}.values[${j}]`;
      const chars = typeof value === 'string' ? [...value] : [];
      if (typeof value !== 'string' || chars.length === 0 || chars.length > MAX_ATTRIBUTE_VALUE_CHARS || /\p{Cc}/u.test(value)) {
        const got = typeof value === 'string' ? JSON.stringify(chars.slice(0, 80).join('')) : typeName(value);
        c.problems.push(`${r} must be 1 to ${MAX_ATTRIBUTE_VALUE_CHARS} printable characters, got ${got}`);
      } else if (value === ANY_VALUE) c.problems.push(`${r} is "${ANY_VALUE}", which a request says for no value: name the value otherwise`);
      else if (seen.has(value)) c.problems.push(`${r} ${JSON.stringify(value)} is listed twice`);
      else seen.add(value);
    });
  });
  return c.problems.length === before ? (v as AttributeSpec[]) : undefined;
}

/** The step-graph contract (contracts.md §1b): t [1], k [5], every image tensor [1,1,H,W]; clip [1] where listed. */
function checkStepGraphContract(
  problems: string[],
  path: string,
  role: StepGraphRole,
  inputs: TensorSpec[],
  outputs: TensorSpec[],
  res: [number, number],
): void {
  const wanted = inputs.some((s) => s.name === STEP_GRAPH_CLIP_INPUT) ? [...STEP_GRAPH_IO[role].inputs, STEP_GRAPH_CLIP_INPUT] : STEP_GRAPH_IO[role].inputs;
  for (const name of wanted) wantTensor(problems, path, inputs, name, stepGraphShape(name, res), 'inputs');
  for (const name of STEP_GRAPH_IO[role].outputs) wantTensor(problems, path, outputs, name, stepGraphShape(name, res), 'outputs');
}

/** Both step graphs, when the manifest lists them (the GPU-resident path needs the pair). */
export function stepGraphs(manifest: Manifest): { maskStep: ModelFileSpec; imageStep: ModelFileSpec } | null {
  const { maskStep, imageStep } = manifest.models;
  return maskStep && imageStep ? { maskStep, imageStep } : null;
}

/** What an ONNX session reports about itself (a structural subset of ORT's InferenceSession). */
export interface SessionSignature {
  inputNames: readonly string[];
  outputNames: readonly string[];
  /** ORT ≥ 1.21 exposes metadata with shapes; dims may be symbolic strings. */
  inputMetadata?: readonly { name: string; isTensor?: boolean; shape?: readonly (number | string)[] }[];
  outputMetadata?: readonly { name: string; isTensor?: boolean; shape?: readonly (number | string)[] }[];
}

/**
 * Compares a loaded session with the manifest's model entry. Returns problems (empty = fine):
 * every manifest input/output must exist in the session, and static dims must match.
 */
export function checkSessionSignature(role: ModelKey, spec: ModelFileSpec, session: SessionSignature): string[] {
  const problems: string[] = [];
  const check = (kind: 'input' | 'output', specs: TensorSpec[], names: readonly string[], meta: SessionSignature['inputMetadata']) => {
    for (const s of specs) {
      if (!names.includes(s.name)) {
        problems.push(
          `${spec.file} (${role} model) has no ${kind} "${s.name}" listed in the manifest; it has ${names.map((n) => `"${n}"`).join(', ') || 'none'}`,
        );
        continue;
      }
      const m = meta?.find((x) => x.name === s.name);
      if (m?.shape && m.shape.length > 0) {
        const ok = m.shape.length === s.shape.length && m.shape.every((d, i) => typeof d !== 'number' || d === s.shape[i]);
        if (!ok) problems.push(`${spec.file} (${role} model) ${kind} "${s.name}" has shape [${m.shape}], the manifest says [${s.shape}]`);
      }
    }
    if (kind === 'input') {
      for (const n of names)
        if (!specs.some((s) => s.name === n)) problems.push(`${spec.file} (${role} model) needs an input "${n}" the manifest does not list`);
    }
  };
  check('input', spec.inputs, session.inputNames, session.inputMetadata);
  check('output', spec.outputs, session.outputNames, session.outputMetadata);
  return problems;
}

/**
 * Every file the manifest lists, each once: the graphs (mask, image, the step graphs), then the
 * weights files they name.
 */
export function listedFiles(manifest: Manifest): ListedFile[] {
  const specs = modelKeys(manifest).flatMap((k) => (manifest.models[k] ? [manifest.models[k]] : []));
  const out = new Map<string, ListedFile>();
  for (const f of [...specs, ...specs.flatMap((s) => (s.weights ? [s.weights] : []))]) {
    if (!out.has(f.file)) out.set(f.file, { file: f.file, sha256: f.sha256, ...(f.bytes !== undefined ? { bytes: f.bytes } : {}) });
  }
  return [...out.values()];
}

/** The models whose graphs keep their tensors in the weights file `file` (for messages: "mask, maskStep"). */
export function weightsUsers(manifest: Manifest, file: string): ModelKey[] {
  return modelKeys(manifest).filter((k) => manifest.models[k]?.weights?.file === file);
}

/** Lowercase hex SHA-256 of the bytes (WebCrypto: browsers, workers, Node ≥ 19). */
export async function sha256Hex(bytes: Uint8Array | ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as BufferSource);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Throws an Error naming the file when its size or SHA-256 differs from the manifest. */
export async function verifyModelBytes(role: ModelKey, spec: ModelFileSpec, bytes: Uint8Array): Promise<void> {
  await verifyBytes(`${spec.file} (${role} model)`, 'the exported model', spec, bytes);
}

/** The same for a weights file; `users` are the models that keep their tensors in it (weightsUsers). */
export async function verifyWeightsBytes(users: readonly ModelKey[], spec: WeightsFileSpec, bytes: Uint8Array): Promise<void> {
  await verifyBytes(`${spec.file} (weights of ${users.join(', ')})`, 'the exported weights', spec, bytes);
}

async function verifyBytes(label: string, what: string, spec: ListedFile, bytes: Uint8Array): Promise<void> {
  if (spec.bytes !== undefined && bytes.byteLength !== spec.bytes) {
    throw new Error(`${label} is ${bytes.byteLength} bytes, the manifest says ${spec.bytes}: the file is truncated or not ${what}`);
  }
  const got = await sha256Hex(bytes);
  if (got !== spec.sha256) {
    throw new Error(`${label} has SHA-256 ${got}, the manifest says ${spec.sha256}: the file is corrupt or from another export`);
  }
}
