// What the studio opens with: the bundled model folder and the presets read from the URL.
// `?model=<folder>&seed=<n>&steps=<n>&backend=webgpu|wasm&previews=off`
import type { Backend } from '../worker/api';

/** The bundled model folder under `public/models/` that the studio opens when the URL names none. */
export const DEFAULT_MODEL = 'tiny';

/** Largest number of DDIM steps offered (the schedule's T; the paper samples with 256). */
export const MAX_STEPS = 1024;

export const MAX_SEED = 0xffffffff;

export interface UrlOptions {
  /** Model folder name under `/models/`. */
  model: string;
  seed: number | null;
  steps: number | null;
  backend: Backend | undefined;
  /** false with `previews=off`: run without streaming previews (benchmarks). */
  previews: boolean;
}

function parseInteger(value: string | null, min: number, max: number): number | null {
  if (value === null || !/^\s*\d+\s*$/.test(value)) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : null;
}

/** Reads the presets from a query string; anything malformed falls back to the default. */
export function parseUrlOptions(search: string): UrlOptions {
  const params = new URLSearchParams(search);
  const folder = params.get('model');
  // A folder name, never a path: keeps every fetch inside /models/ on this origin.
  const model = folder !== null && /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(folder) ? folder : DEFAULT_MODEL;
  const backendParam = params.get('backend');
  const backend: Backend | undefined =
    backendParam === 'webgpu' || backendParam === 'wasm' ? backendParam : undefined;
  const previewsParam = params.get('previews');
  return {
    model,
    seed: parseInteger(params.get('seed'), 0, MAX_SEED),
    steps: parseInteger(params.get('steps'), 1, MAX_STEPS),
    backend,
    previews: !(previewsParam === 'off' || previewsParam === '0' || previewsParam === 'false'),
  };
}

/** URL of a bundled model folder, resolved against the app's base path. */
export function modelUrl(folder: string, base: string = import.meta.env.BASE_URL): string {
  const prefix = base.endsWith('/') ? base : `${base}/`;
  return `${prefix}models/${folder}/`;
}

/** The same query string with the seed and steps of a run, so the address bar reproduces it. */
export function withRunParams(search: string, seed: number, steps: number): string {
  const params = new URLSearchParams(search);
  params.set('seed', String(seed));
  params.set('steps', String(steps));
  return `?${params.toString()}`;
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
