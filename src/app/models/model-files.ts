// The files of a custom model as the user gives them (file picker, folder picker, drag and drop),
// turned into what the worker's load() takes: file name → bytes. Only the gathering happens
// here; what the files must be (manifest, SHA-256, ONNX, weights) is checked in the worker, in one place
// for every source (engine/pair.ts readManifest / readModelBytes). The folder's documents (the data
// license its card names and README.md, core/dataset/about.ts) come along, as a bundled model's do,
// so its card shows and its datasets carry its license.

import { documentSources, MAX_DOCUMENT_BYTES } from '../../core/dataset/about';
import { formatBytes } from './model-panel';

/** The part of a File used here (a fake in unit tests). */
export interface FileLike {
  name: string;
  /** Folder picker / drop: the path inside the chosen folder, e.g. "tiny/mask.onnx". */
  webkitRelativePath?: string;
  size: number;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** Files a model folder may hold that the worker needs: the manifest, ONNX graphs and weights files. */
const MODEL_FILE = /(^manifest\.json$|\.onnx$|\.weights$)/i;

/**
 * The file names a chosen manifest.json lists: its graphs and their weights files, whatever their
 * extension (`models`), and the documents its card names (`documents`); none where it is absent
 * or not JSON (the worker names that problem).
 */
async function namedByManifest(files: readonly FileLike[]): Promise<{ models: Set<string>; documents: Set<string> }> {
  const models = new Set<string>();
  const documents = new Set<string>();
  const manifest = files.find((f) => f.name === 'manifest.json');
  if (!manifest) return { models, documents };
  try {
    const m = JSON.parse(new TextDecoder().decode(await manifest.arrayBuffer())) as {
      models?: Record<string, { file?: unknown; weights?: { file?: unknown } }>;
      card?: unknown;
    };
    for (const spec of Object.values(m.models ?? {})) {
      if (typeof spec?.file === 'string') models.add(spec.file);
      if (typeof spec?.weights?.file === 'string') models.add(spec.weights.file);
    }
    const card = typeof m.card === 'object' && m.card !== null ? (m.card as Record<string, unknown>) : {};
    for (const d of documentSources(card)) documents.add(d.file);
  } catch {
    // not JSON: the worker's validation says so, naming the file
  }
  return { models, documents };
}

/**
 * Reads the model files among `files` (the manifest, .onnx and .weights files and any other file
 * the manifest names, and the documents its card names: the data license and README.md; others
 * are skipped) into name → bytes. Throws an Error naming the problem when none is a model file,
 * two have the same name (files from two folders) or a document is over MAX_DOCUMENT_BYTES.
 */
export async function gatherModelFiles(files: readonly FileLike[]): Promise<Record<string, ArrayBuffer>> {
  const named = await namedByManifest(files);
  const isModelFile = (f: FileLike) => MODEL_FILE.test(f.name) || named.models.has(f.name);
  const chosen = files.filter((f) => isModelFile(f) || named.documents.has(f.name));
  if (!chosen.some(isModelFile)) {
    const names = files
      .map((f) => f.name)
      .slice(0, 8)
      .join(', ');
    throw new Error(
      `no manifest.json, .onnx or .weights file among the ${files.length} chosen (${names || 'nothing'}): choose the model's manifest.json with its ONNX and weights files, or its folder`,
    );
  }
  const byName = new Map<string, FileLike>();
  for (const f of chosen) {
    const other = byName.get(f.name);
    if (other) {
      const where = (x: FileLike) => x.webkitRelativePath || x.name;
      throw new Error(`two files are named ${f.name} (${where(other)} and ${where(f)}): choose the files of one model`);
    }
    byName.set(f.name, f);
    if (!isModelFile(f) && f.size > MAX_DOCUMENT_BYTES) {
      throw new Error(
        `${f.name} is ${f.size} bytes, over the ${formatBytes(MAX_DOCUMENT_BYTES)} a model card or data license may hold: shorten it, or leave it out of the files you choose`,
      );
    }
  }
  const entries = await Promise.all([...byName].map(async ([name, f]) => [name, await f.arrayBuffer()] as const));
  return Object.fromEntries(entries);
}

/** Files dropped on the page, folders opened (one level: a model folder holds its files directly). */
export async function droppedFiles(data: DataTransfer): Promise<File[]> {
  const entries = [...data.items].map((item) => (item.kind === 'file' ? item.webkitGetAsEntry() : null)).filter((e): e is FileSystemEntry => e !== null);
  if (entries.length === 0) return [...data.files];
  const fileOf = (e: FileSystemFileEntry) => new Promise<File>((ok, fail) => e.file(ok, fail));
  const out: File[] = [];
  for (const entry of entries) {
    if (entry.isFile) out.push(await fileOf(entry as FileSystemFileEntry));
    else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      // readEntries returns the folder in batches until an empty one.
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((ok, fail) => reader.readEntries(ok, fail));
        if (batch.length === 0) break;
        for (const child of batch) if (child.isFile) out.push(await fileOf(child as FileSystemFileEntry));
      }
    }
  }
  return out;
}

/** Whether a drag carries files (not text or a link being dragged around the page). */
export function dragHasFiles(data: DataTransfer | null): boolean {
  return !!data && [...data.types].includes('Files');
}
