// The model manifest, formats 1 and 2 (docs/contracts.md §2 and §6; its fields are
// schemas/manifest.schema.json's): types, validation with messages that name the field, a check
// of an ONNX session's inputs/outputs against it, and sha256 verification. Unknown extra fields are allowed (forward compatibility). Format 2 adds a latent
// image chain (`latent`, models `encoder` and `decoder`) and attributes (`attributes`, the U-Nets'
// input `a`, `sampler.guidance`); a format-1 manifest means what it always meant, and its fields of
// those names, if any, are unknown extras that nothing reads (latentOf, attributesOf).

import type { ClipMode } from './ddim';
import { MAX_CARD_CHARS, MAX_MANIFEST_DEPTH } from './limits';
import { checkSchema, inFieldOrder, type SchemaVerdict } from './manifest-schema';

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

/**
 * A file in the model folder itself: letters, digits, . _ -, and not "." or ".." (the schema's
 * $defs.fileName, for the external data locations inside a graph: onnx-header.ts; a test compares the two).
 */
export const FILE_NAME = /^(?!\.+$)[A-Za-z0-9._-]+$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The U-Nets' attribute input (contracts.md §6b). */
export const ATTRIBUTE_INPUT = 'a';
/** "any" in a request means no value (contracts.md §6b), so no attribute has a value of that name (the schema says so too). */
export const ANY_VALUE = 'any';

/**
 * Validates parsed JSON as a format-1 or format-2 manifest; throws ManifestError naming every bad
 * field. The fields' types and bounds are schemas/manifest.schema.json's (manifest-schema.ts);
 * what a schema cannot say is written out below, checked where the fields it reads are sound: the
 * checks across fields (betas, steps, the latent's grid, attribute names, the graphs' tensors,
 * weights files) and the nesting depth and size of the values.
 */
export function validateManifest(json: unknown): Manifest {
  const { problems, sound } = checkSchema(json);
  if (!isObj(json)) throw new ManifestError(problems);
  problems.push(...crossFieldProblems(json as unknown as Manifest, sound));
  checkSize(problems, json);
  if (problems.length) throw new ManifestError(inFieldOrder(problems));
  return json as unknown as Manifest;
}

/** What the schema cannot say about a manifest, for the fields the schema found sound. */
function crossFieldProblems(m: Manifest, sound: SchemaVerdict['sound']): string[] {
  const problems: string[] = [];
  const all = (...pointers: string[]) => pointers.every(sound);
  if (all('/schedule/betaStart', '/schedule/betaEnd') && m.schedule.betaEnd < m.schedule.betaStart)
    problems.push(`manifest.schedule.betaEnd (${m.schedule.betaEnd}) must be ≥ betaStart (${m.schedule.betaStart})`);
  if (all('/sampler/steps', '/schedule/T') && m.sampler.steps > m.schedule.T)
    problems.push(`manifest.sampler.steps (${m.sampler.steps}) must be ≤ schedule.T (${m.schedule.T})`);
  // the graphs' shapes follow from the resolution, the latent and the attributes, where all are sound
  let shapesKnown = sound('/resolution');
  const latent = latentOf(m);
  if (latent) {
    const before = problems.length;
    if (all('/latent', '/resolution')) checkLatent(problems, latent, m.resolution);
    shapesKnown &&= sound('/latent') && problems.length === before;
  }
  const attributes = attributesOf(m);
  if (m.format === 2 && m.attributes !== undefined) {
    const before = problems.length;
    if (sound('/attributes')) checkAttributeNames(problems, attributes);
    shapesKnown &&= sound('/attributes') && problems.length === before;
  }
  const keys = modelKeys(m);
  if (shapesKnown) {
    const shapes: ChainShapes = { res: m.resolution, grid: chainGrid(m), channels: latent?.channels ?? 1, codeLength: attributeCodeLength(attributes) };
    for (const role of keys) {
      const spec = m.models?.[role];
      const p = `manifest.models.${role}`;
      if (!spec || !all(`/models/${role}/inputs`, `/models/${role}/outputs`)) continue;
      if (role === 'maskStep' || role === 'imageStep') checkStepGraphContract(problems, p, role, spec.inputs, spec.outputs, m.resolution);
      else checkGraphContract(problems, p, role, spec.inputs, spec.outputs, shapes);
    }
  }
  if (problems.length === 0 && sound('')) checkWeightsFiles(problems, m.models, keys);
  return problems;
}

/** `manifest.latent` against the resolution, and one preview weight per channel (contracts.md §6a). */
function checkLatent(problems: string[], { channels, factor: f, grid, preview }: LatentSpec, res: [number, number]): void {
  const p = 'manifest.latent';
  if (preview.weights.length !== channels)
    problems.push(`${p}.preview.weights must be an array of ${channels} finite numbers (one per latent channel), got ${JSON.stringify(preview.weights)}`);
  if (res[0] % f !== 0 || res[1] % f !== 0) problems.push(`manifest.resolution [${res}] must be a multiple of latent.factor ${f}`);
  else if (grid[0] !== res[0] / f || grid[1] !== res[1] / f)
    problems.push(`${p}.grid must be [${res[0] / f},${res[1] / f}] (resolution [${res}] / factor ${f}), got [${grid}]`);
}

/** Each attribute named once (the schema's uniqueItems would compare whole entries). */
function checkAttributeNames(problems: string[], attributes: readonly AttributeSpec[]): void {
  const first = new Map<string, number>();
  attributes.forEach(({ name }, i) => {
    const other = first.get(name);
    if (other === undefined) first.set(name, i);
    else problems.push(`manifest.attributes[${i}].name "${name}" is also manifest.attributes[${other}].name: each attribute is listed once`);
  });
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
