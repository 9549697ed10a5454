// What the studio opens with: the bundled model folder and the presets read from the URL.
// `?model=<folder>&mode=pair|mask2image|image2mask&seed=<n>&steps=<n>&clip=none|image|both&backend=webgpu|wasm&threads=<n>&previews=off`
// and, for a model with attributes, `&attr.<name>=<value>` per attribute asked for (absent: any) and `&guidance=<w>`.

import { guidanceInRange } from '../core/attributes';
import { CLIP_MODES, type ClipMode } from '../core/ddim';
import { DEFAULT_MODEL } from '../core/default-model';
import { MAX_SEED, parseDecimal } from '../core/limits';
import type { Backend, ModeKind } from '../worker/api';

/** The bundled model folder under `public/models/` that the studio opens when the URL names none (the CLI's default too). */
export { DEFAULT_MODEL };

/**
 * Largest number of DDIM steps the controls and `?steps=` offer (the shipped models' T; the paper
 * samples with 256). The model's own T (at most MAX_T, src/core/limits.ts) bounds it again in the worker.
 */
export const MAX_STEPS = 1024;

/** The modes as the URL spells them. */
export const MODE_PARAM: Record<ModeKind, string> = { pair: 'pair', maskToImage: 'mask2image', imageToMask: 'image2mask' };

function parseMode(value: string | null): ModeKind {
  const found = (Object.keys(MODE_PARAM) as ModeKind[]).find((kind) => MODE_PARAM[kind] === value);
  return found ?? 'pair';
}

export interface UrlOptions {
  /** Model folder name under `/models/`. */
  model: string;
  mode: ModeKind;
  seed: number | null;
  steps: number | null;
  /** The sampler option clip; null: the model's default. */
  clip: ClipMode | null;
  backend: Backend | undefined;
  /** WASM threads (benchmarks; 1 to 64); undefined: the engine's rule (engine/web.ts, wasmThreadCount). */
  threads: number | undefined;
  /** false with `previews=off`: run without streaming previews (benchmarks). */
  previews: boolean;
  /** `attr.<name>=<value>`: the attributes asked for (checked against the model once it is open). */
  attributes: Record<string, string>;
  /** `guidance=<w>`, 0 … 20; null: the model's default. */
  guidance: number | null;
}

/** The query parameter of an attribute: `attr.pathology`. */
const ATTR_PREFIX = 'attr.';

/** Attribute names as the contract allows them (contracts.md §6b); anything else in the URL is not one. */
const ATTRIBUTE_NAME = /^[A-Za-z0-9_-]{1,32}$/;

function parseAttributes(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of params) {
    const name = key.slice(ATTR_PREFIX.length);
    if (key.startsWith(ATTR_PREFIX) && ATTRIBUTE_NAME.test(name) && value !== '' && value.length <= 64) out[name] = value;
  }
  return out;
}

/** Guidance w typed or in the URL: a number from 0 to 20, or null. */
export function parseGuidance(text: string | null): number | null {
  const w = text === null ? null : parseDecimal(text.trim());
  return w !== null && guidanceInRange(w) ? w : null;
}

/** Reads the presets from a query string; anything malformed falls back to the default. */
export function parseUrlOptions(search: string): UrlOptions {
  const params = new URLSearchParams(search);
  const folder = params.get('model');
  // A folder name, never a path: keeps every fetch inside /models/ on this origin.
  const model = folder !== null && /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(folder) ? folder : DEFAULT_MODEL;
  const backendParam = params.get('backend');
  const backend: Backend | undefined = backendParam === 'webgpu' || backendParam === 'wasm' ? backendParam : undefined;
  const previewsParam = params.get('previews');
  return {
    model,
    mode: parseMode(params.get('mode')),
    seed: parseBoundedInteger(params.get('seed'), 0, MAX_SEED),
    steps: parseBoundedInteger(params.get('steps'), 1, MAX_STEPS),
    clip: CLIP_MODES.find((m) => m === params.get('clip')) ?? null,
    backend,
    threads: parseBoundedInteger(params.get('threads'), 1, 64) ?? undefined,
    previews: !(previewsParam === 'off' || previewsParam === '0' || previewsParam === 'false'),
    attributes: parseAttributes(params),
    guidance: parseGuidance(params.get('guidance')),
  };
}

/** URL of a bundled model folder, resolved against the app's base path. */
export function modelUrl(folder: string, base: string = import.meta.env.BASE_URL): string {
  const prefix = base.endsWith('/') ? base : `${base}/`;
  return `${prefix}models/${folder}/`;
}

/** The shareable part of the studio's state; null where the input does not hold a valid value. */
export interface UrlState {
  model: string;
  mode: ModeKind;
  seed: number | null;
  steps: number | null;
  clip: ClipMode | null;
  /** The attributes asked for (only values, not "any"); guidance null: none to keep (no attributes, or invalid). */
  attributes: Readonly<Record<string, string>>;
  guidance: number | null;
}

/**
 * The same query string with model, mode, seed, steps, clip, attributes and guidance as they are now (other parameters kept),
 * so the address bar always reproduces the studio: a seed or steps being edited into something
 * invalid drops that parameter rather than keeping a stale one.
 */
export function withStateParams(search: string, state: UrlState): string {
  const params = new URLSearchParams(search);
  params.set('model', state.model);
  params.set('mode', MODE_PARAM[state.mode]);
  for (const key of ['seed', 'steps', 'clip'] as const) {
    const value = state[key];
    if (value === null) params.delete(key);
    else params.set(key, String(value));
  }
  for (const key of [...params.keys()]) if (key.startsWith(ATTR_PREFIX)) params.delete(key);
  for (const [name, value] of Object.entries(state.attributes)) params.set(`${ATTR_PREFIX}${name}`, value);
  if (state.guidance === null) params.delete('guidance');
  else params.set('guidance', String(state.guidance));
  return `?${params.toString()}`;
}

/** A whole number in [min, max] typed into a field, or null. */
export function parseBoundedInteger(text: string | null, min: number, max: number): number | null {
  if (text === null || !/^\s*\d+\s*$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : null;
}

/** A fresh random seed in [0, 2^32 - 1]. */
export function randomSeed(): number {
  const buf = new Uint32Array(1);
  crypto.getRandomValues(buf);
  return buf[0] ?? 0;
}

/** The same query string opening another bundled model folder (`model=<folder>`). */
export function withModelParam(search: string, folder: string): string {
  const params = new URLSearchParams(search);
  params.set('model', folder);
  return `?${params.toString()}`;
}
