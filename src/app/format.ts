// Small pure helpers for what the UI prints and names.
import type { ModeKind, RunPhases } from '../worker/api';
import { MODE_PARAM } from './config';

/** "850 ms", "4.2 s", "1 min 05 s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s - m * 60);
  return `${m} min ${String(rest).padStart(2, '0')} s`;
}

/** Remaining time from the steps done so far, or null before the first step. */
export function estimateRemainingMs(done: number, total: number, elapsedMs: number): number | null {
  if (done <= 0 || total <= 0) return null;
  return (elapsedMs / done) * Math.max(0, total - done);
}

/** "96% in the U-Nets" (the status line), and every phase's share of `totalMs` (its tooltip). */
export function phaseShares(phases: RunPhases, totalMs: number): { short: string; full: string } {
  const pct = (ms: number) => `${totalMs > 0 ? Math.round((100 * ms) / totalMs) : 0}%`;
  return {
    short: `${pct(phases.modelMs)} in the U-Nets`,
    full: `U-Nets (with the DDIM update and B(·)) ${pct(phases.modelMs)}, reading back ${pct(phases.readMs)}, frames to the UI ${pct(phases.framesMs)}, the rest of the loop ${pct(phases.otherMs)}`,
  };
}

/**
 * `<model>_seed<seed>_steps<steps>`: the base name both files of a downloaded pair share; a pair
 * from mask → image or image → mask says so (`<model>_mask2image_seed…`), as the URL spells the mode.
 */
export function pairBaseName(model: string, seed: number, steps: number, mode: ModeKind = 'pair'): string {
  const safe = model.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^-+|-+$/g, '') || 'model';
  const tag = mode === 'pair' ? '' : `_${MODE_PARAM[mode]}`;
  return `${safe}${tag}_seed${seed}_steps${steps}`;
}

export function backendLabel(backend: 'webgpu' | 'wasm'): string {
  return backend === 'webgpu' ? 'WebGPU' : 'WASM';
}
