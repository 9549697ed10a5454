// What a CLI run generates: its arguments, checked, and the cases of this shard.
// Pure (no I/O), so the rules are unit-tested without running a model.

import { type AttributeRequest, AttributeRequestError, fullRequest, guidanceInRange } from '../core/attributes';
import { caseName } from '../core/dataset/nnunet';
import { CLIP_MODES, type ClipMode } from '../core/ddim';
import { ETA_RANGE, etaInRange, GUIDANCE_RANGE, MAX_SEED, parseDecimal } from '../core/limits';
import type { AttributeSpec } from '../core/manifest';
import type { SamplerMode } from '../core/sampler';

/** Exit codes: 1 = a run failed (bad model, bad output folder, …), 2 = bad command line. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface Shard {
  index: number;
  count: number;
}

/** "i/n" with 0 ≤ i < n (the 0-based index a job array hands each task). */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new UsageError(`--shard must be i/n (e.g. 0/4), got "${text}"`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw new UsageError(`--shard ${text}: n must be ≥ 1`);
  if (index >= count)
    throw new UsageError(
      `--shard ${text}: i must be in 0 … ${count - 1} (0-based, as $JOB_COMPLETION_INDEX and $SLURM_ARRAY_TASK_ID with --array=0-${count - 1})`,
    );
  return { index, count };
}

/** A whole-number flag in min … max: anything else (-1, 1.5, 2e3, too large) is named with the range. */
export function parseInteger(flag: string, text: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = Number(text);
  if (!/^\d+$/.test(text.trim()) || v < min || v > max) throw new UsageError(`--${flag} must be a whole number in ${min} … ${max}, got "${text}"`);
  return v;
}

/** The command line's options as parseArgs takes them: a value (string) or a switch (boolean), and an optional one-letter alias. */
export type OptionKinds = Record<string, { type: 'string' | 'boolean'; short?: string }>;

/** Edit distance with adjacent swaps (optimal string alignment: "cuont" is 1 from "count"), for "did you mean". */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.length][b.length];
}

/** The known option nearest a mistyped one (at most 2 edits, or a prefix of it), or none. */
function nearestOption(name: string, options: OptionKinds): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const known of Object.keys(options)) {
    const d = known.startsWith(name) && name.length >= 2 ? 0 : editDistance(name, known);
    if (d <= 2 && (!best || d < best.d)) best = { name: known, d };
  }
  return best?.name;
}

/**
 * The command line checked before parseArgs sees it, so a mistake reads as one plain line instead
 * of parseArgs' internals: an unknown option (with the nearest one), a value missing, a switch given
 * a value, a stray argument. A value that starts with a dash and a digit (`--count -1`) is passed on
 * as `--count=-1`, so the option's own check names its range. Returns the arguments for parseArgs.
 */
export function checkArguments(argv: readonly string[], options: OptionKinds): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('-') || arg === '-' || arg === '--') {
      const stray = arg === '--' ? argv[i + 1] : arg;
      if (stray === undefined) continue;
      throw new UsageError(`unexpected argument "${stray}"; every value follows its option (e.g. --count 20)`);
    }
    const long = arg.startsWith('--');
    const eq = arg.indexOf('=');
    const given = long ? arg.slice(2, eq < 0 ? undefined : eq) : arg.slice(1);
    const name = long ? given : Object.keys(options).find((k) => options[k].short === given);
    const spec = name === undefined ? undefined : options[name];
    if (name === undefined || !spec) {
      const near = long ? nearestOption(given, options) : undefined;
      throw new UsageError(`unknown option ${long ? `--${given}` : arg}${near ? `; did you mean --${near}?` : ''}`);
    }
    if (spec.type === 'boolean') {
      if (long && eq >= 0) throw new UsageError(`--${name} takes no value, got "${arg.slice(eq + 1)}"`);
      out.push(arg);
      continue;
    }
    if (long && eq >= 0) {
      out.push(arg);
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--') || value === '-h') throw new UsageError(`--${name} needs a value`);
    if (value.startsWith('-') && !/^-[\d.]/.test(value))
      throw new UsageError(`--${name} needs a value; for one that starts with a dash write --${name}=${value}`);
    out.push(`--${name}=${value}`);
    i++;
  }
  return out;
}

/** --eta: a plain decimal in ETA_MIN … ETA_MAX (src/core/limits.ts says why). */
export function parseEta(text: string): number {
  const v = parseDecimal(text);
  if (v === null || !etaInRange(v)) throw new UsageError(`--eta must be ${ETA_RANGE}, got "${text}"`);
  return v;
}

/** --guidance: a plain decimal in GUIDANCE_MIN … GUIDANCE_MAX. */
export function parseGuidance(text: string): number {
  const v = parseDecimal(text);
  if (v === null || !guidanceInRange(v)) throw new UsageError(`--guidance must be ${GUIDANCE_RANGE}, got "${text}"`);
  return v;
}

/**
 * --attr "pathology=malignant,birads=4" → {pathology: "malignant", birads: "4"}: the syntax only
 * (checkAttributes checks it against the model). A value may hold spaces, not a comma.
 */
export function parseAttributes(text: string): Record<string, string> {
  const request: Record<string, string> = {};
  for (const item of text.split(',')) {
    const eq = item.indexOf('=');
    const name = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    if (eq < 0 || !name || !value)
      throw new UsageError(`--attr must be name=value pairs separated by commas (e.g. pathology=malignant,birads=4), got "${text}"`);
    if (name in request) throw new UsageError(`--attr names ${name} twice`);
    request[name] = value;
  }
  return request;
}

/** How a run asks for attributes: fixed values (--attr) and at most one attribute balanced over its values (--balance). */
export interface AttributePlan {
  request: AttributeRequest;
  balance?: AttributeSpec;
}

/**
 * --attr and --balance checked against the model's attributes: an attribute or value it does not
 * have is named with what it has; a model without attributes refuses both.
 */
export function checkAttributes(attributes: readonly AttributeSpec[], model: string, attr?: Record<string, string>, balance?: string): AttributePlan {
  if (attributes.length === 0 && (attr || balance !== undefined))
    throw new UsageError(`${attr ? '--attr' : '--balance'}: the model "${model}" takes no attributes (its manifest lists none); leave it out`);
  let request: AttributeRequest = {};
  try {
    // every attribute, "any" where --attr names none (what the case records say)
    request = fullRequest(attributes, attr ?? {});
  } catch (e) {
    if (e instanceof AttributeRequestError) throw new UsageError(`--attr: ${e.message}`);
    throw e;
  }
  if (balance === undefined) return { request };
  const spec = attributes.find((a) => a.name === balance);
  if (!spec) throw new UsageError(`--balance ${balance}: this model has no attribute ${balance}; it has ${attributes.map((a) => a.name).join(', ')}`);
  if (attr && attr[balance] !== undefined) throw new UsageError(`--balance ${balance} and --attr ${balance}=${attr[balance]} both set ${balance}; give one`);
  return { request, balance: spec };
}

/**
 * The request of the case of seed K + i: the plan's, and with --balance value number i mod n of the
 * balanced attribute (in the manifest's order). It depends on the seed alone, so every shard and
 * resumed run assigns the same, and N seeds give each value ⌊N/n⌋ or ⌈N/n⌉ cases (equal when n divides N).
 */
export function caseRequest(plan: AttributePlan, firstSeed: number, seed: number): AttributeRequest {
  if (!plan.balance) return plan.request;
  const { name, values } = plan.balance;
  return { ...plan.request, [name]: values[(seed - firstSeed) % values.length] };
}

export function parseClip(text: string): ClipMode {
  const clip = CLIP_MODES.find((m) => m === text.trim());
  if (!clip) throw new UsageError(`--clip must be ${CLIP_MODES.join(', ')}, got "${text}"`);
  return clip;
}

/**
 * The seeds of shard i of n over K … K+N−1: a contiguous block, [K + ⌊iN/n⌋, K + ⌊(i+1)N/n⌋).
 * The blocks of i = 0 … n−1 partition the range exactly (sizes differ by at most one), and a shard's
 * seeds depend only on (K, N, i, n), so any job array can run the shards in any order or at once.
 */
export function shardSeeds(first: number, count: number, shard: Shard = { index: 0, count: 1 }): number[] {
  checkCaseCount(count, `--count ${count}`);
  const [lo, hi] = shardBounds(count, shard);
  return Array.from({ length: hi - lo }, (_, i) => first + lo + i);
}

function shardBounds(count: number, shard: Shard): [number, number] {
  return [Math.floor((shard.index * count) / shard.count), Math.floor(((shard.index + 1) * count) / shard.count)];
}

/**
 * Most cases one run may ask for (over all shards; --count × masks in mask2image). Every case is a
 * record that dataset.json's and manifest.json's rebuild reads and lists (about 400 bytes each in
 * manifest.json), so 100 000 cases are a 40 MB index rebuilt in seconds, ten times the largest
 * public lesion sets; a run past it would build its case list or index out of memory ("Invalid
 * array length") long before it finished.
 */
export const MAX_CASES = 100_000;

/** Refuses a run of more than MAX_CASES cases, before any list of them is built. */
export function checkCaseCount(cases: number, what: string): void {
  if (cases > MAX_CASES)
    throw new UsageError(
      `${what} gives ${cases} cases; one run makes at most ${MAX_CASES} (its index lists every case): split the seed range over several --out folders`,
    );
}

/** One case to generate: its name, its seed and the sampler mode. Other modes add their own source of jobs. */
export interface CaseJob {
  name: string;
  seed: number;
  mode: SamplerMode;
  /** The case name's prefix (caseName), when not the default "pig". */
  prefix?: string;
  /** Mask → image: the mask file the case was made from (recorded with the case). */
  source?: CaseSource;
  /** A model with attributes: what this case asks for (caseRequest). */
  attributes?: AttributeRequest;
}

/** A user's file a case was conditioned on: its name in the input folder and its SHA-256. */
export interface CaseSource {
  file: string;
  sha256: string;
}

/** Pair mode: one job per seed. */
export function pairJobs(seeds: readonly number[]): CaseJob[] {
  return seeds.map((seed) => ({ name: caseName(seed), seed, mode: { kind: 'pair' } }));
}

/** What an input folder holds: masks (--masks, mask → image) or images (--images, image → mask). */
export type InputKind = 'mask' | 'image';

/** An input file, read and prepared for the model (mask-folder.ts). */
export interface PreparedInput {
  /** The file's name in the folder, e.g. "case 01.png". */
  file: string;
  sha256: string;
  /** Per model pixel: a mask ±1 (1 = lesion), an image in model units [−1, 1], as the sampler's modes take them. */
  values: Float32Array;
  /** What was done to it (maskFromPixels' or imageFromPixels' note), for the log. */
  note: string;
}

/**
 * The case-name prefix of an input file: its name without ".png", with every character other than
 * letters, digits and "-" replaced by "-", so names stay valid nnU-Net case identifiers (which end
 * in "_<seed>" here and "_0000" for the channel) and safe file names on every system.
 */
export function maskCasePrefix(file: string): string {
  const stem = file.replace(/\.png$/i, '');
  const safe = stem.replace(/[^A-Za-z0-9-]/g, '-');
  if (!/[A-Za-z0-9]/.test(safe)) throw new UsageError(`input file "${file}" gives no usable case name; rename it with letters or digits`);
  return safe;
}

/**
 * Mask → image or image → mask: one case per input file and seed (seeds K … K+N−1 for every file,
 * files in name order), named `<file name>_<seed, ten digits>`; the shard takes a contiguous block
 * of that list. Two files that give the same case name (e.g. "a b.png" and "a-b.png") are refused.
 */
export function inputJobs(inputs: readonly PreparedInput[], kind: InputKind, first: number, count: number, shard?: Shard): CaseJob[] {
  const byPrefix = new Map<string, string>();
  for (const m of inputs) {
    const prefix = maskCasePrefix(m.file);
    const other = byPrefix.get(prefix);
    if (other !== undefined) throw new UsageError(`${kind} files "${other}" and "${m.file}" give the same case name "${prefix}"; rename one`);
    byPrefix.set(prefix, m.file);
  }
  checkCaseCount(inputs.length * count, `--count ${count} × ${inputs.length} ${kind}s`);
  // only this shard's block of the (file, seed) list is built: job i is file ⌊i/count⌋, seed first + i mod count
  const [lo, hi] = shardBounds(inputs.length * count, shard ?? { index: 0, count: 1 });
  return Array.from({ length: hi - lo }, (_, k): CaseJob => {
    const m = inputs[Math.floor((lo + k) / count)];
    const seed = first + ((lo + k) % count);
    const prefix = maskCasePrefix(m.file);
    const mode: SamplerMode = kind === 'mask' ? { kind: 'maskToImage', mask: m.values } : { kind: 'imageToMask', image: m.values };
    return { name: caseName(seed, prefix), seed, prefix, mode, source: { file: m.file, sha256: m.sha256 } };
  });
}

/**
 * --reject-empty: how many more seeds a case tries after its first gave an empty mask. Bounded so a
 * model that only makes empty masks (or an input whose lesion always vanishes) cannot loop forever.
 */
export const REJECT_EMPTY_RETRIES = 10;

/**
 * The seed of try `i` (0 = the case's own) of the case of seed K + j in a run of N seeds:
 * K + j + i·N. The tries of different cases (and shards) never meet, and depend only on (K, N, j),
 * so shards and resumed runs try the same seeds in the same order.
 */
export function retrySeed(seed: number, count: number, attempt: number): number {
  return seed + attempt * count;
}

/** Refuses --reject-empty where its last retry seed would pass 2^32 − 1. */
export function checkRetrySeeds(first: number, count: number): void {
  const last = first + count - 1 + REJECT_EMPTY_RETRIES * count;
  if (count > 0 && last > MAX_SEED)
    throw new UsageError(
      `--reject-empty may try seeds up to ${last} (each case's seed + up to ${REJECT_EMPTY_RETRIES} × --count), past ${MAX_SEED}; use a lower --seed or --count`,
    );
}
