// The reader test's folder of real images, as the user gives it (folder picker or drop): which
// files are images, which are masks and whose. Nothing is read here but names; the files stay on
// the page (the pixels are decoded later, only for the images the test draws).
//
// Masks are recognized in the layouts datasets ship in:
//   BUS-BRA        Images/bus_0001-l.png        Masks/mask_0001-l.png   (prefix mask_, image prefix dropped)
//   nnU-Net raw    imagesTr/case_0000.png       labelsTr/case.png       (channel suffix _0000 dropped)
//   BUSI           benign (1).png               benign (1)_mask.png, benign (1)_mask_1.png (merged)
//   any            images/x.png                 masks/x.png             (a folder named masks, labels, gt …)

/** A file of the folder: its path inside it ("real/Images/bus_0001-l.png") and its contents. */
export interface FolderFile {
  path: string;
  file: Blob;
}

export interface RealImage {
  path: string;
  file: Blob;
  /** The mask files of this case (several are merged, BUSI's _mask_1); empty: none found. */
  masks: FolderFile[];
}

export interface RealFolder {
  /** Images, sorted by path (the same folder gives the same list whatever order the browser lists it in). */
  images: RealImage[];
  /** Images with at least one mask. */
  masked: number;
  /** Files that are neither an image nor a mask the browser can decode (skipped). */
  skipped: number;
}

/** What a browser decodes (core/image-header.ts reads their headers; others are skipped). */
const IMAGE_FILE = /\.(png|jpe?g|bmp|webp|gif|avif)$/i;
/** A folder of masks: masks, labels, labelsTr, ground_truth, gt, segmentations … */
const MASK_FOLDER = /^(masks?|labels?(tr|ts)?|ground[ _-]?truths?|gt|segmentations?|annotations?)$/i;
const MASK_PREFIX = /^mask[_-]/i;
const MASK_SUFFIX = /[_-]mask([_-]\d+)?$/i;

/** Most files a folder may list: BUS-BRA is ~3,800 files; a folder of a million names is not a test. */
const MAX_FOLDER_FILES = 100_000;

const segments = (path: string) => path.split('/').filter((s) => s !== '');
const stem = (name: string) => name.replace(/\.[^.]+$/, '');

/** The case key of a mask file, or null when the file is not a mask. */
function maskKey(path: string): string | null {
  const parts = segments(path);
  const base = stem(parts[parts.length - 1] ?? '');
  const inMaskFolder = parts.slice(0, -1).some((p) => MASK_FOLDER.test(p));
  if (MASK_PREFIX.test(base)) return base.replace(MASK_PREFIX, '');
  if (MASK_SUFFIX.test(base)) return base.replace(MASK_SUFFIX, '');
  return inMaskFolder ? base : null;
}

/** The keys an image may be filed under, most specific first. */
function imageKeys(path: string): string[] {
  const parts = segments(path);
  const base = stem(parts[parts.length - 1] ?? '');
  const keys = [base, base.replace(/_0000$/, ''), base.replace(/^[A-Za-z]+[_-]/, '')];
  return [...new Set(keys)];
}

/** Sorts the folder's files into images (with their masks) and the rest. */
export function readRealFolder(files: readonly FolderFile[]): RealFolder | string {
  if (files.length > MAX_FOLDER_FILES)
    return `The folder has ${files.length} files; the reader test reads folders of up to ${MAX_FOLDER_FILES}. Choose a folder of the images to test (a subset).`;
  const masks = new Map<string, FolderFile[]>();
  const images: FolderFile[] = [];
  let skipped = 0;
  for (const f of files) {
    const name = segments(f.path).at(-1) ?? '';
    if (name.startsWith('.') || !IMAGE_FILE.test(name)) {
      skipped++;
      continue;
    }
    const key = maskKey(f.path);
    if (key === null) images.push(f);
    else masks.set(key, [...(masks.get(key) ?? []), f]);
  }
  if (images.length === 0) {
    const what = masks.size > 0 ? `only masks (${masks.size})` : `no image the browser can read (of ${files.length} files)`;
    return `The folder holds ${what}: choose a folder of real images (PNG, JPEG, BMP, WebP, GIF or AVIF), with their masks beside them if you have them.`;
  }
  images.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const out = images.map((f): RealImage => {
    const key = imageKeys(f.path).find((k) => masks.has(k));
    const found = key === undefined ? [] : (masks.get(key) ?? []);
    return { path: f.path, file: f.file, masks: [...found].sort((a, b) => (a.path < b.path ? -1 : 1)) };
  });
  return { images: out, masked: out.filter((i) => i.masks.length > 0).length, skipped };
}

/** The files of an <input webkitdirectory>, with the paths inside the chosen folder. */
export function pickedFolderFiles(files: Iterable<File>): FolderFile[] {
  return [...files].map((file) => ({ path: file.webkitRelativePath || file.name, file }));
}

/** Deepest folder level a dropped folder is read to (a dataset is a few levels deep). */
const MAX_DEPTH = 8;

/** Files dropped on the reader test: folders read recursively (to MAX_DEPTH), with their paths. */
export async function droppedFolderFiles(data: DataTransfer): Promise<FolderFile[]> {
  const entries = [...data.items].map((item) => (item.kind === 'file' ? item.webkitGetAsEntry() : null)).filter((e): e is FileSystemEntry => e !== null);
  const out: FolderFile[] = [];
  const fileOf = (e: FileSystemFileEntry) => new Promise<File>((ok, fail) => e.file(ok, fail));
  const walk = async (entry: FileSystemEntry, depth: number): Promise<void> => {
    if (out.length > MAX_FOLDER_FILES) return;
    if (entry.isFile) {
      out.push({ path: entry.fullPath.replace(/^\//, ''), file: await fileOf(entry as FileSystemFileEntry) });
      return;
    }
    if (!entry.isDirectory || depth >= MAX_DEPTH) return;
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    // readEntries returns the folder in batches until an empty one
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((ok, fail) => reader.readEntries(ok, fail));
      if (batch.length === 0) break;
      for (const child of batch) await walk(child, depth + 1);
    }
  };
  for (const entry of entries) await walk(entry, 0);
  return out;
}
