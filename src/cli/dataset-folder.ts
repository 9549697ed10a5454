// The CLI's output folder: an nnU-Net v2 raw dataset (src/core/dataset/nnunet.ts) that several
// processes may fill at once (shards of a job array) and a later run may complete (--resume).
//
// Design: one sidecar record per case, `cases/<case>.json` ({ model, case }), is the single source
// of truth for "this case is complete". Every file is written atomically (a temporary name in the
// same folder, then rename), and a case's record is renamed into place only after all its files,
// so a run killed at any point leaves either a complete case (record present) or no record, never
// a half case taken as complete. dataset.json and manifest.json are never edited incrementally:
// they are rebuilt from all records present (sorted by case name), so they describe exactly the
// complete cases whatever shards or resumed runs made them, and the same set of cases gives the
// same bytes. Shards own disjoint cases (plan.ts shardSeeds), so they never write the same case
// file; the only shared files are the two index files, each written whole by rename. Two shards
// finishing together could race (A scans, B writes its last record and the index, A's older index
// lands last), so a writer re-reads the records after its rename and rewrites until what it wrote
// is what is on disk: the last index written always covers every record written before it.
// A run killed by SIGKILL leaves the index as the previous rebuild left it; the next run (any shard,
// or --resume) rebuilds it. SIGINT/SIGTERM rebuild it before exiting.

import { randomBytes } from 'node:crypto';
import { access, constants, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DatasetAbout } from '../core/dataset/about';
import { type CaseRecord, type DatasetModel, datasetIndexFiles, type ImageFormat, RAW_ARRAYS, rawPath, recordFormat } from '../core/dataset/nnunet';
import type { DatasetFile } from '../core/dataset/zip';
import type { ClipMode } from '../core/ddim';

const RECORDS_DIR = 'cases';
const TEMP_SUFFIX = '.tmp';
const recordPath = (name: string) => `${RECORDS_DIR}/${name}.json`;

/** A failure of the output folder, with a message that names it. */
export class OutputFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputFolderError';
  }
}

/** What a case record stores beside the case: the model, so a folder never mixes two models. */
export interface CaseSidecar {
  model: DatasetModel;
  case: CaseRecord;
}

/** Settings every case of one folder shares (a resumed run or another shard must match them). */
export interface FolderSettings {
  model: DatasetModel;
  steps: number;
  eta: number;
  clip: ClipMode;
  mode: CaseRecord['mode'];
  format: ImageFormat;
}

function describeSettings(s: FolderSettings): string {
  const sha = Object.entries(s.model.files)
    .map(([k, f]) => `${k} ${f.sha256.slice(0, 12)}`)
    .join(', ');
  return `model "${s.model.name}" (${sha}), ${s.steps} steps, η=${s.eta}, clip ${s.clip}, mode ${s.mode}, format ${s.format}`;
}

function sameModel(a: DatasetModel, b: DatasetModel): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Creates the folder if needed and checks it is a writable folder; throws OutputFolderError. */
export async function prepareOutputFolder(out: string): Promise<void> {
  try {
    const s = await stat(out);
    if (!s.isDirectory()) throw new OutputFolderError(`--out ${out} is a file, not a folder`);
  } catch (e) {
    if (e instanceof OutputFolderError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new OutputFolderError(`--out ${out}: a part of the path is a file, not a folder`);
    if (code !== 'ENOENT') throw new OutputFolderError(`--out ${out} cannot be read: ${(e as Error).message}`);
  }
  try {
    await mkdir(out, { recursive: true }); // the subfolders come with their first file (writeAtomic)
    await access(out, constants.W_OK);
    // a real write: access() says yes on read-only file systems and to root everywhere
    const probe = join(out, `.write-probe-${process.pid}-${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);
    await writeFile(probe, '');
    await rm(probe);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR' || code === 'EEXIST') throw new OutputFolderError(`--out ${out}: a part of the path is a file, not a folder`);
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw new OutputFolderError(`--out ${out} is not writable (${code})`);
    throw new OutputFolderError(`--out ${out} cannot be used: ${(e as Error).message}`);
  }
}

/** Writes `bytes` to out/path atomically: a temporary file in the same folder, then rename. */
export async function writeAtomic(out: string, path: string, bytes: Uint8Array): Promise<void> {
  const target = join(out, path);
  await mkdir(dirname(target), { recursive: true });
  const temp = `${target}.${process.pid}-${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`;
  try {
    await writeFile(temp, bytes);
    await rename(temp, target);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
}

/** Every record in the folder, by case name. A record that is not valid JSON is an error naming it. */
export async function readRecords(out: string): Promise<Map<string, CaseSidecar>> {
  const dir = join(out, RECORDS_DIR);
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw e;
  }
  const records = new Map<string, CaseSidecar>();
  for (const n of names) {
    let sidecar: CaseSidecar;
    try {
      sidecar = JSON.parse(await readFile(join(dir, n), 'utf8'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // removed meanwhile
      throw new OutputFolderError(`${join(dir, n)} is not a valid case record (${(e as Error).message}); delete it to regenerate that case`);
    }
    if (!sidecar?.case?.case || !sidecar.model) throw new OutputFolderError(`${join(dir, n)} is not a valid case record; delete it to regenerate that case`);
    records.set(sidecar.case.case, sidecar);
  }
  return records;
}

/** Refuses a folder that already holds cases made with other settings (a dataset is one model, one setting). */
export function checkCompatible(out: string, records: Map<string, CaseSidecar>, want: FolderSettings): void {
  for (const { model, case: c } of records.values()) {
    const have: FolderSettings = { model, steps: c.steps, eta: c.eta, clip: c.clip ?? 'none', mode: c.mode, format: recordFormat(c) };
    const same = (['steps', 'eta', 'clip', 'mode', 'format'] as const).every((k) => have[k] === want[k]);
    if (!sameModel(model, want.model) || !same) {
      throw new OutputFolderError(
        `--out ${out} already holds case ${c.case} made with ${describeSettings(have)}; ` + `this run uses ${describeSettings(want)}. Use another --out folder`,
      );
    }
  }
}

/** Complete: its record exists, and every file it lists (and the raw arrays, when wanted) is there. */
export async function isComplete(out: string, sidecar: CaseSidecar | undefined, wantRaw: boolean): Promise<boolean> {
  if (!sidecar) return false;
  const files = sidecar.case.files;
  if (wantRaw && !RAW_ARRAYS.every((a) => files.includes(rawPath(sidecar.case.case, a)))) return false;
  for (const f of files) {
    try {
      await access(join(out, f));
    } catch {
      return false;
    }
  }
  return true;
}

/** Writes one case: its files first, its record last (the record marks it complete). */
export async function writeCase(out: string, model: DatasetModel, record: CaseRecord, files: readonly DatasetFile[]): Promise<void> {
  for (const f of files) await writeAtomic(out, f.path, f.bytes);
  const sidecar: CaseSidecar = { model, case: record };
  await writeAtomic(out, recordPath(record.case), new TextEncoder().encode(`${JSON.stringify(sidecar, null, 2)}\n`));
}

/** Removes temporary files a killed run left for these cases (only this run's cases: never another live shard's). */
export async function removeStaleTemps(out: string, caseNames: readonly string[]): Promise<void> {
  const own = new Set(caseNames);
  for (const sub of ['imagesTr', 'labelsTr', 'raw', RECORDS_DIR]) {
    let names: string[];
    try {
      names = await readdir(join(out, sub));
    } catch {
      continue;
    }
    for (const n of names) {
      if (!n.endsWith(TEMP_SUFFIX)) continue;
      const caseOf = /^(.*?)(?:_0000|_xT|_yT|_x0|_y0)?\.(?:png|nii\.gz|npy|json)\./.exec(n)?.[1];
      if (caseOf && own.has(caseOf)) await rm(join(out, sub, n), { force: true });
    }
  }
}

/**
 * Rebuilds dataset.json and manifest.json from the records present (see the design note above);
 * returns the number of cases they describe. `format` is used when there is no case yet.
 */
export async function rebuildIndex(out: string, model: DatasetModel, format: ImageFormat, about: DatasetAbout): Promise<number> {
  for (;;) {
    const before = await readRecords(out);
    for (const [name, s] of before) {
      if (!sameModel(s.model, model))
        throw new OutputFolderError(`${join(out, recordPath(name))} was made with another model ("${s.model.name}"); use another --out folder`);
    }
    const records = [...before.values()].map((s) => s.case);
    // the cases' own format (a run with --count 0 that only rebuilds need not repeat --format)
    const indexFormat = records.length > 0 ? recordFormat(records[0]) : format;
    for (const f of datasetIndexFiles(records, model, { format: indexFormat, about })) await writeAtomic(out, f.path, f.bytes);
    const after = await readRecords(out);
    if (after.size === before.size && [...after.keys()].every((k) => before.has(k))) return records.length;
  }
}
