// Generic error helpers for every layer (the engine's own errors are engine/errors.ts).

/** A readable message for anything thrown: an Error's message, a string, else its JSON. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  try {
    return JSON.stringify(e);
  } catch {
    return String(e);
  }
}
