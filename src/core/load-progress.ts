// How far reading a model's files has come: what the engine reports (engine/progress-tracker.ts,
// ProgressTracker) and the model panel shows as a bar.

/** Progress of reading a model's files (from the network, the cache or the user's files). */
export interface LoadProgress {
  receivedBytes: number;
  /** Expected total: the manifest's sizes, else Content-Length; null while unknown. */
  totalBytes: number | null;
  /** Of receivedBytes, what came from Cache Storage. */
  cachedBytes: number;
  filesDone: number;
  files: number;
}

/** received / total in [0, 1], or null when the total is not known yet. */
export function progressFraction(p: Pick<LoadProgress, 'receivedBytes' | 'totalBytes'>): number | null {
  if (p.totalBytes === null) return null;
  if (p.totalBytes <= 0) return 1;
  return Math.min(1, Math.max(0, p.receivedBytes / p.totalBytes));
}
