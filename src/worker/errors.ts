// StudioError values across the comlink boundary.
//
// How a kind crosses: the worker throws plain `{ kind, message }` objects (not Error instances).
// Comlink's default "throw" handler posts a thrown non-Error value unchanged (structured clone),
// and the app-side proxy rejects with that very object, so `kind` survives. Errors thrown by
// comlink itself or by code that does throw an Error arrive as Error(message); toStudioError
// turns any of these into a StudioError ('internal' when nothing better is known).

import type { StudioError } from './api';

const KINDS: readonly StudioError['kind'][] = ['cancelled', 'model', 'backend', 'busy', 'input', 'internal'];

export function studioError(kind: StudioError['kind'], message: string): StudioError {
  return { kind, message };
}

export function isStudioError(e: unknown): e is StudioError {
  return typeof e === 'object' && e !== null && typeof (e as StudioError).message === 'string' && KINDS.includes((e as StudioError).kind);
}

/** For the app: `try { await api.generate(...) } catch (e) { const err = toStudioError(e); … }`. */
export function toStudioError(e: unknown): StudioError {
  if (isStudioError(e)) return { kind: e.kind, message: e.message, ...(e.model ? { model: e.model } : {}) };
  if (e instanceof Error) return { kind: 'internal', message: e.message || e.name };
  if (typeof e === 'string') return { kind: 'internal', message: e };
  return { kind: 'internal', message: 'unknown error in the studio worker' };
}
