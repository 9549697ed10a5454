// The files of a custom model as the user gives them (file picker, folder picker, drag and drop),
// turned into what the worker's load() takes: file name → bytes. Only the gathering happens
// here; what the files must be (manifest, SHA-256, ONNX, weights) is checked in the worker, in one place
// for every source (engine/pair.ts readManifest / readModelBytes).

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
 * The file names a chosen manifest.json lists (its graphs and their weights files, whatever their
 * extension); none where it is absent or not JSON (the worker names that problem).
 */
async function namedByManifest(files: readonly FileLike[]): Promise<Set<string>> {
  const names = new Set<string>();
  const manifest = files.find((f) => f.name === 'manifest.json');
  if (!manifest) return names;
  try {
    const m = JSON.parse(new TextDecoder().decode(await manifest.arrayBuffer())) as {
      models?: Record<string, { file?: unknown; weights?: { file?: unknown } }>;
    };
    for (const spec of Object.values(m.models ?? {})) {
      if (typeof spec?.file === 'string') names.add(spec.file);
      if (typeof spec?.weights?.file === 'string') names.add(spec.weights.file);
    }
  } catch {
    // not JSON: the worker's validation says so, naming the file
  }
  return names;
}

/**
 * Reads the model files among `files` (the manifest, .onnx and .weights files and any other file
 * the manifest names; others, such as a license text, are skipped) into name → bytes. Throws an
 * Error naming the problem when none is a model file or two have the same name (files from two folders).
 */
export async function gatherModelFiles(files: readonly FileLike[]): Promise<Record<string, ArrayBuffer>> {
  const named = await namedByManifest(files);
  const chosen = files.filter((f) => MODEL_FILE.test(f.name) || named.has(f.name));
  if (chosen.length === 0) {
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
