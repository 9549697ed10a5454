// Limits the page and the worker both enforce (the worker's API re-exports them: src/worker/api.ts).

/** Most pairs one batch may ask for: the app keeps every finished pair (about 5 bytes a pixel). */
export const MAX_BATCH_SIZE = 1000;
