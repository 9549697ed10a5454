// What travels with a generated dataset besides its cases (the CLI's folder and the studio's ZIP
// alike): dataset.json's `licence`, `reference` and `description`, taken from the model's manifest
// card (never fixed text: a model trained on other data says so), the model folder's documents (the
// data license file the card names, and the model card README.md where the folder has one), and the
// nnU-Net v2 dataset folder name `DatasetNNN_Name`. DOM-free.
//
// nnU-Net v2 (nnunetv2/dataset_conversion/generate_dataset_json.py) writes `name`, `reference`,
// `release`, `licence` (British spelling) and `description` into dataset.json; it does not read them.
// A raw dataset lives in `$nnUNet_raw/DatasetXXX_NAME/`: XXX the 3-digit id (1 … 999; nnU-Net's
// documentation asks for ids from 500 up for one's own datasets, clear of its pretrained ones), and
// nnunetv2/utilities/dataset_name_id_conversion.py finds a dataset by the prefix `Dataset%03d`.

import { sha256Hex } from '../manifest';
import type { DatasetFile } from './zip';

/** dataset.json's free-text fields about the data. */
export interface DatasetAbout {
  licence: string;
  reference: string;
  description: string;
}

/** A model folder's file that a dataset carries (`file` in the model folder → `path` in the dataset). */
export interface DocumentSource {
  file: string;
  path: string;
}

/** A document read from the model folder: its name there (`file`) and in the dataset (`path`). */
export interface ModelDocument extends DatasetFile {
  file: string;
}

/** A model folder's document that cannot be carried (a link out of the folder, too large, a reserved name). */
export class DocumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DocumentError';
  }
}

/**
 * Largest document a model folder may hold and a dataset carries (CLI and studio alike): 1 MiB,
 * 128 times the largest card shipped (busbra64's README.md, 8 KB); a data license or model card is
 * text, and a bound keeps a crafted "document" (a large file under a document's name) from being
 * copied into every dataset.
 */
export const MAX_DOCUMENT_BYTES = 1 << 20;

/** A carried document as the dataset's manifest.json lists it. */
export interface DocumentListing {
  path: string;
  bytes: number;
  sha256: string;
}

/** The documents a dataset carries as its manifest.json lists them (the CLI's folder and the studio's ZIP alike). */
export async function listDocuments(documents: readonly { path: string; bytes: Uint8Array }[]): Promise<DocumentListing[]> {
  return Promise.all(documents.map(async (d) => ({ path: d.path, bytes: d.bytes.length, sha256: await sha256Hex(d.bytes) })));
}

/** The model card's file name in a model folder (pigkit.card writes it), and in a dataset. */
export const MODEL_CARD_FILE = 'README.md';
const DATASET_MODEL_CARD = 'MODEL-CARD.md';
/** The data license's name when the card names none (pigkit.export's). */
const DEFAULT_LICENSE_FILE = 'DATA-LICENSE.txt';

export const DEFAULT_DATASET_ID = 501;
export const MAX_DATASET_ID = 999;

const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

/** A plain file name inside the model folder: no folder part, no `..`, not hidden. */
const plainName = (name: string) => /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) && !name.includes('..');

/**
 * Names a dataset's own files and folders take (nnunet.ts's layout, and the CLI's `cases/` records):
 * a document under one of them would collide with the layout (compared ignoring case, as macOS and
 * Windows file systems do).
 */
const RESERVED_NAMES = ['dataset.json', 'manifest.json', 'imagesTr', 'labelsTr', 'imagesTs', 'raw', 'cases', DATASET_MODEL_CARD, 'README.md', 'preview.png'];

/**
 * The documents a dataset carries, where the model folder has them: the data license the card
 * names (`licenseFile`, else DATA-LICENSE.txt) under its own name, and README.md as MODEL-CARD.md
 * (a README.md at a dataset's root would read as the dataset's own).
 */
export function documentSources(card: Record<string, unknown>): DocumentSource[] {
  const named = text(card.licenseFile);
  const license = named && plainName(named) ? named : DEFAULT_LICENSE_FILE;
  if (RESERVED_NAMES.some((r) => r.toLowerCase() === license.toLowerCase()))
    throw new DocumentError(
      `the model card's licenseFile "${license}" is a name the generated dataset uses itself (${RESERVED_NAMES.join(', ')}); rename the license file (e.g. ${DEFAULT_LICENSE_FILE}) and the card's licenseFile`,
    );
  return [
    { file: license, path: license },
    { file: MODEL_CARD_FILE, path: DATASET_MODEL_CARD },
  ];
}

/**
 * Reads the documents with `read` (null or a throw: the folder lacks it; a DocumentError: refused,
 * passed on), in documentSources' order.
 * `exists` (optional) says beforehand which files the folder has, so nothing absent is requested.
 */
export async function readDocuments(
  card: Record<string, unknown>,
  read: (file: string) => Promise<Uint8Array | null>,
  exists?: (file: string) => boolean,
): Promise<ModelDocument[]> {
  const out: ModelDocument[] = [];
  for (const { file, path } of documentSources(card)) {
    if (exists && !exists(file)) continue;
    const bytes = await read(file).catch((e) => {
      if (e instanceof DocumentError) throw e;
      return null;
    });
    if (bytes) out.push({ file, path, bytes });
  }
  return out;
}

/**
 * dataset.json's licence, reference and description from the model's card (`license`, `citation`,
 * `data`); where the card lacks one, the field says so. `documents`: the paths the dataset carries.
 */
export function datasetAbout(card: Record<string, unknown>, modelName: string, documents: readonly string[]): DatasetAbout {
  const data = text(card.data);
  const license = text(card.license);
  const citation = text(card.citation);
  const carried = documents.length
    ? ` It carries ${documents.join(' and ')} from the model's folder.`
    : " The model's folder gave no data license file or model card.";
  return {
    licence: license ?? `not recorded: the card of the model "${modelName}" names no license for its training data`,
    reference: citation ?? `not recorded: the card of the model "${modelName}" gives no citation for its training data`,
    description:
      `Synthetic mask/image pairs generated by PIG Studio with the model "${modelName}", ` +
      (data ? `trained on ${data}.` : 'whose card does not say what it was trained on.') +
      carried +
      ' manifest.json says how each case was made.',
  };
}

/** The dataset name part: letters, digits, '-' and '_' (runs of others become '-'), at most 64; empty → "PIG". */
export function sanitizeDatasetName(name: string): string {
  const clean = name
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/^[-_]+/, '')
    .slice(0, 64)
    .replace(/[-_]+$/, '');
  return clean || 'PIG';
}

/** `Dataset501_tiny`: nnU-Net v2's folder name for a dataset id (1 … 999) and name (sanitized). */
export function datasetFolderName(id: number, name: string): string {
  if (!Number.isInteger(id) || id < 1 || id > MAX_DATASET_ID)
    throw new RangeError(`the dataset id must be a whole number from 1 to ${MAX_DATASET_ID}, got ${id}`);
  return `Dataset${String(id).padStart(3, '0')}_${sanitizeDatasetName(name)}`;
}

/** The files under one top folder (the ZIP's `DatasetNNN_Name/`). */
export function underFolder(folder: string, files: readonly DatasetFile[]): DatasetFile[] {
  return files.map((f) => ({ path: `${folder}/${f.path}`, bytes: f.bytes }));
}
