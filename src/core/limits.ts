// Limits the page and the worker both enforce (the worker's API re-exports them: src/worker/api.ts),
// and the bounds of the sampler's numbers that the manifest validator (manifest.ts), the CLI's flags
// (src/cli/plan.ts), the worker (src/worker/studio.ts) and the kit (training/pigkit/limits.py, the
// same values: training/tests/test_manifest_corpus.py reads them from here) all apply.

/**
 * Largest seed: a seed is the 32-bit key of the start noise (core/noise.ts, contracts.md §3), so
 * seeds run 0 … 2³² − 1 in the studio, the worker, the CLI and the dataset's case names.
 */
export const MAX_SEED = 0xffffffff;

/** Whether `seed` is a whole number in 0 … MAX_SEED. */
export function seedInRange(seed: number): boolean {
  return Number.isInteger(seed) && seed >= 0 && seed <= MAX_SEED;
}

/** What is wrong with the seeds startSeed … startSeed + count − 1 where the last passes MAX_SEED, for messages; else null. */
export function seedsPastMax(startSeed: number, count: number): string | null {
  const last = startSeed + count - 1;
  return last > MAX_SEED ? `The seeds ${startSeed} … ${last} go past ${MAX_SEED}; start at ${MAX_SEED - count + 1} at the most.` : null;
}

/** Most pairs one batch may ask for: the app keeps every finished pair (about 5 bytes a pixel). */
export const MAX_BATCH_SIZE = 1000;

/**
 * DDIM's η runs from 0, deterministic DDIM, to 1, the DDPM-like posterior variance (Song et al.
 * 2021, eq. 16). Past 1 the step's noise σ exceeds what ᾱ allows, √(1 − ᾱ' − σ²) is clamped at 0,
 * and the chains saturate to junk that still looks like a finished run.
 */
export const ETA_MIN = 0;
export const ETA_MAX = 1;

/**
 * Longest schedule, T: ten times DDPM's 1,000 and the kit's 1,024. Every load builds T-long tables
 * (β, ᾱ), and a T of 10⁹ asks for gigabytes before any model runs; a longer linear schedule only
 * makes the steps finer, which DDIM skips anyway.
 */
export const MAX_T = 10_000;

/** Largest side, H or W, of a model: a 4096² plane is 64 MiB of float32, and a run holds several. */
export const MAX_RESOLUTION = 4096;

/**
 * How deep a manifest's values may nest objects and arrays (the format's own go 5 deep:
 * models.mask.inputs[0].shape): deeper is no card anyone wrote, and Python's JSON reader gives up
 * at about 1,000 levels.
 */
export const MAX_MANIFEST_DEPTH = 16;

/** Largest manifest card, in characters of its JSON (the shipped cards are 1 to 3 thousand). */
export const MAX_CARD_CHARS = 65_536;

/** Largest manifest.json, in characters (the shipped ones are under 10 thousand). */
export const MAX_MANIFEST_CHARS = 1_048_576;

/**
 * Classifier-free guidance w (contracts.md §6b): 0 is the unconditional model, 1 the conditional
 * one alone; samplers use 1 … 10, and past 20 the extrapolation e0 + w·(e1 − e0) only saturates.
 */
export const GUIDANCE_MIN = 0;
export const GUIDANCE_MAX = 20;

/** Most attributes a model takes, and values per attribute (contracts.md §6b; pigkit.attributes' MAX_VALUES). */
export const MAX_ATTRIBUTES = 8;
export const MAX_ATTRIBUTE_VALUES = 64;
/** Longest attribute name and value, in characters. */
export const MAX_ATTRIBUTE_NAME_CHARS = 32;
export const MAX_ATTRIBUTE_VALUE_CHARS = 64;

/**
 * Latent channels C and the autoencoder's factor f (contracts.md §6a): Stable Diffusion's and
 * MAISI's autoencoders use 4 channels and f = 4 or 8; past 64 either is no autoencoder of a slice.
 */
export const MAX_LATENT_CHANNELS = 64;
export const MAX_LATENT_FACTOR = 64;

/**
 * A plain decimal number as typed on a command line: digits, an optional fraction and exponent.
 * No hex (`0x10`), `Infinity`, `NaN`, empty text or underscores, which Number() or Python's float()
 * would take as something else than the user meant.
 */
const DECIMAL = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/;

/** The number `text` spells as a plain decimal, or null. */
export function parseDecimal(text: string): number | null {
  if (!DECIMAL.test(text)) return null;
  const v = Number(text);
  return Number.isFinite(v) ? v : null;
}

/** What η must be, for messages. */
export const ETA_RANGE = `a number from ${ETA_MIN} (deterministic DDIM) to ${ETA_MAX} (DDPM-like)`;

/** What the guidance w must be, for messages. */
export const GUIDANCE_RANGE = `a number from ${GUIDANCE_MIN} to ${GUIDANCE_MAX} (1: the conditional model alone, no guidance)`;

/** Whether η is in ETA_MIN … ETA_MAX (a finite number). */
export function etaInRange(eta: unknown): eta is number {
  return typeof eta === 'number' && eta >= ETA_MIN && eta <= ETA_MAX;
}
