// What the model panel prints, as pure functions (unit-tested without a DOM): the model card's
// rows from the manifest's free-form `card`, sizes, and the load progress line.

import { MODEL_CARD_FILE } from '../../core/dataset/about';
import { progressFraction } from '../../core/load-progress';
import type { LoadProgress } from '../../worker/api';

/** The card fields shown, in order, with their labels; others the kit writes are left out. */
const CARD_FIELDS: readonly [key: string, label: string][] = [
  ['data', 'Data'],
  ['license', 'License'],
  ['citation', 'Citation'],
  ['preset', 'Preset'],
  ['trainedOn', 'Trained on'],
  ['stepsTrained', 'Steps trained'],
  ['imagesSeen', 'Images seen'],
  ['metrics', 'Metrics'],
];

/** A card value in words: text and numbers as they are, `{ mask: 263, image: 252 }` as "mask 263 · image 252". */
export function cardValueText(value: unknown): string | null {
  if (typeof value === 'string') return value.trim() === '' ? null : value;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : null;
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (Array.isArray(value)) {
    const parts = value.map(cardValueText).filter((v): v is string => v !== null);
    return parts.length ? parts.join(', ') : null;
  }
  if (typeof value === 'object' && value !== null) {
    const parts = Object.entries(value)
      .map(([k, v]) => {
        const text = cardValueText(v);
        return text === null ? null : `${k} ${text}`;
      })
      .filter((v): v is string => v !== null);
    return parts.length ? parts.join(' · ') : null;
  }
  return null;
}

/** The model card as label/value rows: resolution and default steps first, then the card's fields it has. */
export function modelCardRows(model: { resolution: [number, number]; defaultSteps: number; card: Record<string, unknown> }): [string, string][] {
  const rows: [string, string][] = [
    ['Resolution', `${model.resolution[1]}×${model.resolution[0]}`],
    ['Default steps', String(model.defaultSteps)],
  ];
  for (const [key, label] of CARD_FIELDS) {
    const text = cardValueText(model.card[key]);
    if (text !== null) rows.push([label, text]);
    else if (key === 'metrics') rows.push([label, 'none recorded']);
  }
  return rows;
}

/**
 * The open model's card for people (README.md beside its manifest, written by the kit's export) as
 * text, from the documents the worker read with the model (bundled, from files, or from the cache),
 * so the panel shows it without a second request; null where the folder has none.
 */
export function modelCardText(documents: readonly { file: string; bytes: Uint8Array }[]): string | null {
  const card = documents.find((d) => d.file === MODEL_CARD_FILE);
  return card ? new TextDecoder().decode(card.bytes) : null;
}

/** "812 B", "760 KiB", "3.1 MiB", "1.20 GiB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '–';
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[i]}`;
}

/** "Downloading 1.48 of 2.98 MiB (50%)", "… from the cache", or bytes only while the total is unknown. */
export function loadProgressText(p: LoadProgress): string {
  const fraction = progressFraction(p);
  const verb = p.receivedBytes > 0 && p.cachedBytes === p.receivedBytes ? 'Reading from the cache' : 'Downloading';
  if (fraction === null) return `${verb} ${formatBytes(p.receivedBytes)}`;
  return `${verb} ${formatBytes(p.receivedBytes)} of ${formatBytes(p.totalBytes ?? 0)} (${Math.floor(fraction * 100)}%)`;
}

/** The members of navigator.storage the model panel uses (each may be missing in a browser). */
export interface StorageManagerLike {
  persist?(): Promise<boolean>;
  persisted?(): Promise<boolean>;
}

/**
 * Whether the browser keeps this site's storage (the model cache) when disk space runs low; once a
 * model was just downloaded into the cache, first asks for that (persist(): Chromium decides from
 * the site's engagement without a prompt, Firefox asks the user), so a 30 MB download is not lost
 * to eviction. null where the browser cannot say. (persist() is a window API: never in the worker.)
 */
export async function persistentModelCache(storage: StorageManagerLike | undefined, justDownloaded: boolean): Promise<boolean | null> {
  try {
    if (!storage?.persisted) return null;
    if (await storage.persisted()) return true;
    return justDownloaded && storage.persist ? await storage.persist() : false;
  } catch {
    return null;
  }
}

/** The model cache's line in the panel: its size, the site's usage and quota, whether it is kept. */
export function cacheUsageText(cache: { models: { bytes: number }[]; usage: number | null; quota: number | null; persistent: boolean | null }): string {
  const bytes = cache.models.reduce((sum, m) => sum + m.bytes, 0);
  const count = cache.models.length;
  const usage = cache.usage !== null ? ` · this site uses ${formatBytes(cache.usage)}${cache.quota !== null ? ` of ${formatBytes(cache.quota)}` : ''}` : '';
  const kept = cache.persistent === null ? '' : cache.persistent ? ' · kept until you clear it' : ' · the browser may evict it when disk space runs low';
  return `Model cache: ${formatBytes(bytes)} in ${count} ${count === 1 ? 'model' : 'models'}${usage}${kept}`;
}
