// The CLI's output folder: an nnU-Net v2 raw dataset (src/core/dataset/nnunet.ts) that several
// processes may fill at once (shards of a job array) and a later run may complete (--resume).
//
// Design: one sidecar record per case, `cases/<case>.json` ({ model, case, checksums }), is the
// single source of truth for "this case is complete": it lists each of the case's files with its
// size and SHA-256, and --resume re-makes a case whose files do not match (a truncated or emptied
// PNG). Every file is written atomically (a temporary name in the same folder, then rename), and a
// case's record is renamed into place only after all its files, so a run killed at any point leaves
// either a complete case (record present) or no record, never a half case taken as complete. The
// cases a run wrote are made durable (fsync of each file, then of each folder) in one pass before
// every index rebuild, and the index and documents are fsync'd as they are written: after a power
// cut the index lists only cases on disk, and a case cut short since is found by its checksums. dataset.json, manifest.json and README.md (the card) are
// never edited incrementally: they are rebuilt from all records present (sorted by case name), so they describe
// exactly the complete cases whatever shards or resumed runs made them, and the same set of cases
// gives the same bytes. Shards own disjoint cases (plan.ts shardSeeds), so they never write the same
// case file; the only shared files are the two index files, each written whole by rename. Two shards
// finishing together could race (A scans, B writes its last record and the index, A's older index
// lands last), so a writer re-reads the records after its rename and rewrites until what it wrote
// is what is on disk: the last index written always covers every record written before it.
// A run killed by SIGKILL leaves the index as the previous rebuild left it; the next run (any shard,
// or --resume) rebuilds it. SIGINT/SIGTERM rebuild it before exiting.
//
// Whose folder: the CLI writes only into a new or empty folder or one it wrote before (it has the
// `cases/` records folder, made before anything else), never into or under a model folder (real
// paths compared, so a link does not hide one): a user's own dataset.json is never replaced.
//
// One setting per folder, also between runs at once: each run registers itself in the folder's
// lock, `.pig-generate.lock/<host>.<pid>.json` (its settings), before it reads the records, and
// refuses to start while another live run of other settings is registered. Runs of the same
// settings (shards of one job array, on any host) register side by side and cooperate as above.
// Registering before listing means of two runs starting together at least one sees the other. A
// registration whose pid is dead on this host is stale and removed; one from another host cannot
// be checked, so the message says to delete it when no such run is going. The index rebuild also
// re-checks every record against the run's settings, so a folder mixed behind the lock's back (an
// old version, a file system without it) fails loudly instead of exiting 0.

import { createHash, randomBytes } from 'node:crypto';
import { access, constants, mkdir, open, readdir, readFile, realpath, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { type DatasetAbout, type DocumentListing, MAX_DATASET_ID } from '../core/dataset/about';
import { type CaseRecord, type DatasetModel, datasetIndexFiles, type ImageFormat, RAW_ARRAYS, rawPath, recordFormat } from '../core/dataset/nnunet';
import type { DatasetFile } from '../core/dataset/zip';
import type { ClipMode } from '../core/ddim';
import { isInside } from '../engine/files';

const RECORDS_DIR = 'cases';
const TEMP_SUFFIX = '.tmp';
const LOCK_DIR = '.pig-generate.lock';
const recordPath = (name: string) => `${RECORDS_DIR}/${name}.json`;

/** A failure of the output folder, with a message that names it. */
export class OutputFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputFolderError';
  }
}

/** Each file of a case: its size and SHA-256 when written (what --resume checks). */
type Checksums = Record<string, { bytes: number; sha256: string }>;

/** What a case record stores beside the case: the model, so a folder never mixes two models, and its files' checksums. */
export interface CaseSidecar {
  model: DatasetModel;
  case: CaseRecord;
  /** Absent in records made before checksums: such a case is made again by --resume. */
  checksums?: Checksums;
}

/** Settings every case of one folder shares (a resumed run or another shard must match them). */
export interface FolderSettings {
  model: DatasetModel;
  steps: number;
  eta: number;
  clip: ClipMode;
  mode: CaseRecord['mode'];
  format: ImageFormat;
  /** A model with attributes: the guidance w (absent for models without). */
  guidance?: number;
  /** --reject-empty (absent without it): its cases record the seeds they rejected. */
  rejectEmpty?: true;
}

/** A refusal over settings: a header, then one line per difference and what to do (printed as lines, not joined). */
export class SettingsMismatchError extends OutputFolderError {}

const MODE_FLAG: Record<FolderSettings['mode'], string> = { pair: 'pair', maskToImage: 'mask2image', imageToMask: 'image2mask' };

/**
 * What differs between the settings `have` (the folder's, or another run's: `where`) and this run's,
 * one line each (`steps: 8 in the folder, 4 asked`), and the options that would match `have`.
 */
function settingsDifferences(have: FolderSettings, want: FolderSettings, where: string): { lines: string[]; flags: string[] } {
  const lines: string[] = [];
  const flags: string[] = [];
  if (have.model.name !== want.model.name) lines.push(`model: "${have.model.name}" ${where}, "${want.model.name}" asked`);
  else if (!sameModel(have.model, want.model)) {
    const roles = [...new Set([...Object.keys(have.model.files), ...Object.keys(want.model.files)])];
    const sha = (m: DatasetModel, role: string) => m.files[role]?.sha256.slice(0, 12) ?? 'none';
    const files = roles.filter((r) => sha(have.model, r) !== sha(want.model, r));
    for (const r of files) lines.push(`model "${have.model.name}" ${r} file: SHA-256 ${sha(have.model, r)}… ${where}, ${sha(want.model, r)}… asked`);
    if (files.length === 0) lines.push(`model "${have.model.name}": another version of its manifest ${where} than asked`);
  }
  for (const key of SETTING_KEYS) {
    if (have[key] === want[key]) continue;
    if (key === 'rejectEmpty') {
      // a switch: on in one, off in the other
      lines.push(`reject-empty: ${have.rejectEmpty ? 'on' : 'off'} ${where}, ${want.rejectEmpty ? 'on' : 'off'} asked`);
      flags.push(have.rejectEmpty ? '--reject-empty' : 'without --reject-empty');
      continue;
    }
    const shown = (s: FolderSettings) => (key === 'mode' ? MODE_FLAG[s.mode] : (s[key] ?? 'none'));
    lines.push(`${key}: ${shown(have)} ${where}, ${shown(want)} asked`);
    if (have[key] !== undefined) flags.push(`--${key} ${shown(have)}`);
  }
  return { lines, flags };
}

function sameModel(a: DatasetModel, b: DatasetModel): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

const SETTING_KEYS = ['steps', 'eta', 'clip', 'guidance', 'mode', 'format', 'rejectEmpty'] as const;
const sameSettings = (a: FolderSettings, b: FolderSettings) => sameModel(a.model, b.model) && SETTING_KEYS.every((k) => a[k] === b[k]);
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const errno = (e: unknown) => (e as NodeJS.ErrnoException).code;

/** `path` resolved through every link of its longest existing part (the rest appended as given). */
async function realPathOf(path: string): Promise<string> {
  const rest: string[] = [];
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    try {
      return join(await realpath(dir), ...rest);
    } catch (e) {
      if (dirname(dir) === dir || (errno(e) !== 'ENOENT' && errno(e) !== 'ENOTDIR')) return resolve(path);
      rest.unshift(basename(dir));
    }
  }
}

/** `path` is `folder` or under it (both real, absolute paths). */

/** A folder holding a PIG model's manifest.json (its `models` entries name files). */
async function isModelFolder(dir: string): Promise<boolean> {
  try {
    const json = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    return (
      typeof json?.models === 'object' && json.models !== null && Object.values(json.models).some((m) => typeof (m as { file?: unknown })?.file === 'string')
    );
  } catch {
    return false;
  }
}

/**
 * Refuses an --out that is the model folder or inside one (--model's, or any folder up the path
 * with a model's manifest.json), by real paths: writing there would replace the model's files.
 */
export async function checkOutsideModels(out: string, model: string): Promise<void> {
  const target = await realPathOf(out);
  const modelDir = await realPathOf(model);
  let inside: string | null = isInside(target, modelDir) ? modelDir : null;
  for (let dir = target; !inside; dir = dirname(dir)) {
    if (await isModelFolder(dir)) inside = dir;
    if (dirname(dir) === dir) break;
  }
  if (inside) {
    const what = target === inside ? 'is the model folder' : `is inside the model folder ${inside}`;
    throw new OutputFolderError(
      `--out ${out} ${what}; writing there would replace the model's files. Choose a folder outside it, e.g. --out out/${inside.split(sep).pop() || 'dataset'}`,
    );
  }
}

/**
 * Creates the folder if needed and checks it is a writable folder; throws OutputFolderError.
 * `dataset`: the folder is the dataset itself, so it must be new, empty (hidden files aside) or
 * one this CLI wrote (it has `cases/`): never someone's folder whose files would be replaced.
 */
export async function prepareOutputFolder(out: string, { dataset = true } = {}): Promise<void> {
  try {
    const s = await stat(out);
    if (!s.isDirectory()) throw new OutputFolderError(`--out ${out} is a file, not a folder`);
  } catch (e) {
    if (e instanceof OutputFolderError) throw e;
    const code = errno(e);
    if (code === 'ENOTDIR') throw new OutputFolderError(`--out ${out}: a part of the path is a file, not a folder`);
    if (code !== 'ENOENT') throw new OutputFolderError(`--out ${out} cannot be read: ${(e as Error).message}`);
  }
  if (dataset) await checkOwnFolder(out);
  try {
    await mkdir(out, { recursive: true }); // the subfolders come with their first file (writeAtomic)
    await access(out, constants.W_OK);
    // a real write: access() says yes on read-only file systems and to root everywhere
    const probe = join(out, `.write-probe-${process.pid}-${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);
    await writeFile(probe, '');
    await rm(probe);
  } catch (e) {
    const code = errno(e);
    if (code === 'ENOTDIR' || code === 'EEXIST') throw new OutputFolderError(`--out ${out}: a part of the path is a file, not a folder`);
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw new OutputFolderError(`--out ${out} is not writable (${code})`);
    throw new OutputFolderError(`--out ${out} cannot be used: ${(e as Error).message}`);
  }
}

/**
 * Refuses a dataset folder `folder` (DatasetNNN_Name) in `container` whose id another
 * DatasetNNN_ folder there already has: nnU-Net finds a dataset by its id (the prefix
 * `Dataset%03d`, dataset_name_id_conversion.py), so two folders of one id confuse its tools.
 */
export async function checkDatasetId(container: string, folder: string, where: string): Promise<void> {
  const id = folder.slice(0, 'Dataset000'.length);
  let names: string[];
  try {
    names = await readdir(container);
  } catch {
    return; // absent: nothing in it yet
  }
  const other = names.find((n) => n !== folder && n.startsWith(`${id}_`));
  if (!other) return;
  const used = new Set(names.map((n) => /^Dataset(\d{3})_/.exec(n)?.[1]).filter((d) => d !== undefined));
  const asked = Number(id.slice('Dataset'.length));
  let free = asked;
  while (free <= MAX_DATASET_ID && used.has(String(free).padStart(3, '0'))) free++;
  const suggest = free <= MAX_DATASET_ID ? `choose a free --dataset-id (${free} is), ` : 'choose a free --dataset-id, ';
  throw new OutputFolderError(
    `${where} already holds ${other} with the id ${asked}; nnU-Net finds a dataset by its id, so ${folder} beside it would be confused with it: ${suggest}or --dataset-name ${other.slice(id.length + 1)} to add to that dataset`,
  );
}

async function checkOwnFolder(out: string): Promise<void> {
  let names: string[];
  try {
    names = (await readdir(out)).filter((n) => !n.startsWith('.'));
  } catch {
    return; // absent (created next) or unreadable (prepareOutputFolder says so)
  }
  if (names.length === 0) return;
  const records = await stat(join(out, RECORDS_DIR)).catch(() => null);
  if (records?.isDirectory()) return;
  const shown = names.slice(0, 3).join(', ') + (names.length > 3 ? ', …' : '');
  throw new OutputFolderError(
    `--out ${out} is not empty (${shown}) and is not a dataset this CLI wrote (it has no ${RECORDS_DIR}/ folder); ` +
      'its files would be replaced. Choose a new or empty folder, or add --dataset-id/--dataset-name to write a DatasetNNN_Name folder inside it',
  );
}

/** The message for a failed write: the path, and for a full disk what to do (the cases written so far are kept). */
function writeError(target: string, e: unknown): Error {
  const code = errno(e);
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new OutputFolderError(
      `cannot write ${target}: ${code === 'ENOSPC' ? 'no space left on the device' : 'disk quota exceeded'} (${code}); free some space, then run again with --resume (the cases already written are kept)`,
    );
  if (code) return new OutputFolderError(`cannot write ${target}: ${(e as Error).message}`);
  return e as Error;
}

/** fsync of a folder, so a rename in it survives a power cut (not every system can: then skipped). */
async function syncFolder(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => null);
  await handle
    ?.sync()
    .catch(() => undefined)
    .finally(() => handle.close());
}

/**
 * Writes `bytes` to out/path atomically: a temporary file in the same folder, fsync, rename, fsync
 * of the folder. With `unsynced`, the two fsyncs are left to syncWritten (the path is added to it).
 */
export async function writeAtomic(out: string, path: string, bytes: Uint8Array, unsynced?: Set<string>): Promise<void> {
  const target = join(out, path);
  const temp = `${target}.${process.pid}-${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`;
  try {
    await mkdir(dirname(target), { recursive: true });
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(bytes);
      if (!unsynced) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (e) {
    await rm(temp, { force: true });
    throw writeError(target, e);
  }
  if (unsynced) unsynced.add(target);
  else await syncFolder(dirname(target));
}

/**
 * fsync of every file in `unsynced`, then of their folders, once each: a run's cases are made
 * durable in one pass before the index that lists them is written. One fsync per file as it was
 * written made the tiny pair's cases half again slower on a VM's disk; in between, a power cut can
 * leave a case's file or record empty, which --resume finds by the record's checksums (or its
 * unreadable record) and makes again.
 */
async function syncWritten(unsynced: Set<string>): Promise<void> {
  const paths = [...unsynced];
  const syncFile = async (path: string) => {
    const handle = await open(path, 'r+').catch(() => null); // removed meanwhile: nothing to keep
    try {
      await handle?.sync();
    } catch (e) {
      throw writeError(path, e);
    } finally {
      await handle?.close();
    }
  };
  for (let i = 0; i < paths.length; i += 16) await Promise.all(paths.slice(i, i + 16).map(syncFile));
  await Promise.all([...new Set(paths.map((p) => dirname(p)))].map(syncFolder));
  for (const p of paths) unsynced.delete(p);
}

/** Every record in the folder, by case name (one that cannot be read is no record). */
export async function readRecords(out: string): Promise<Map<string, CaseSidecar>> {
  const dir = join(out, RECORDS_DIR);
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch (e) {
    if (errno(e) === 'ENOENT') return new Map();
    throw e;
  }
  const records = new Map<string, CaseSidecar>();
  for (const n of names) {
    // removed meanwhile, or cut short by a power cut before the run's sync (empty, not JSON): the case
    // is not complete, so it is left out of the index and the run that covers it makes it again
    const sidecar = await readFile(join(dir, n), 'utf8')
      .then((text) => JSON.parse(text) as CaseSidecar)
      .catch(() => null);
    if (sidecar?.case?.case && sidecar.model) records.set(sidecar.case.case, sidecar);
  }
  return records;
}

const recordSettings = ({ model, case: c }: CaseSidecar): FolderSettings => ({
  model,
  steps: c.steps,
  eta: c.eta,
  clip: c.clip ?? 'none',
  mode: c.mode,
  format: recordFormat(c),
  ...(c.guidance !== undefined ? { guidance: c.guidance } : {}),
  ...(c.rejectedSeeds !== undefined ? { rejectEmpty: true as const } : {}),
});

/** Refuses a folder that already holds cases made with other settings (a dataset is one model, one setting). */
export function checkCompatible(out: string, records: Map<string, CaseSidecar>, want: FolderSettings): void {
  for (const sidecar of records.values()) {
    const have = recordSettings(sidecar);
    if (!sameSettings(have, want)) {
      const { lines, flags } = settingsDifferences(have, want, 'in the folder');
      const same = have.model.name === want.model.name && sameModel(have.model, want.model);
      const withs = flags.filter((f) => !f.startsWith('without'));
      const how = [withs.length ? `with ${withs.join(' ')}` : '', ...flags.filter((f) => f.startsWith('without'))].filter(Boolean).join(' ');
      const match = flags.length > 0 && same ? `run ${how} to add to this folder, or ` : '';
      throw new SettingsMismatchError(
        [
          `--out ${out} holds cases of model "${have.model.name}" made with other settings than this run's (e.g. ${sidecar.case.case}):`,
          ...lines.map((l) => `  ${l}`),
          `  ${match}use another --out folder for the new settings`,
        ].join('\n'),
      );
    }
  }
}

/** A run's registration in the folder's lock (see the design note above). */
interface LockEntry {
  pid: number;
  host: string;
  since: string;
  /** null: a run that only rebuilds the index (--count 0), which any setting may share. */
  settings: FolderSettings | null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errno(e) === 'EPERM'; // another user's live process
  }
}

/**
 * Registers this run in out's lock and refuses to go on while a live run with other settings is
 * registered there; makes `cases/` (the mark of a CLI folder). Returns the release function.
 */
export async function lockFolder(out: string, settings: FolderSettings | null): Promise<() => Promise<void>> {
  const dir = join(out, LOCK_DIR);
  const host = hostname();
  const own = `${host.replace(/[^A-Za-z0-9.-]/g, '-')}.${process.pid}.json`;
  const entry: LockEntry = { pid: process.pid, host, since: new Date().toISOString(), settings };
  const release = async () => {
    await rm(join(dir, own), { force: true });
    await rmdir(dir).catch(() => undefined); // another run's entry keeps it
  };
  // a run that has just released may remove the empty folder between our mkdir and our write: retry
  for (let attempt = 0; ; attempt++) {
    try {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, own), `${JSON.stringify(entry)}\n`);
      break;
    } catch (e) {
      if (errno(e) !== 'ENOENT' || attempt >= 5) throw writeError(join(dir, own), e);
    }
  }
  try {
    for (const name of await readdir(dir)) {
      if (name === own || !name.endsWith('.json')) continue;
      let other: LockEntry;
      try {
        other = JSON.parse(await readFile(join(dir, name), 'utf8'));
      } catch {
        continue; // released meanwhile, or being written: its run reads ours
      }
      if (other.host === host && !alive(other.pid)) {
        await rm(join(dir, name), { force: true }); // stale: its run was killed
        continue;
      }
      if (!settings || !other.settings || sameSettings(other.settings, settings)) continue;
      throw new SettingsMismatchError(
        [
          `--out ${out} is being filled by another run with other settings (pid ${other.pid} on ${other.host}, since ${other.since}):`,
          ...settingsDifferences(other.settings, settings, 'in that run').lines.map((l) => `  ${l}`),
          `  wait for it to finish or use another --out folder (if that run is gone, delete ${join(dir, name)})`,
        ].join('\n'),
      );
    }
    await mkdir(join(out, RECORDS_DIR), { recursive: true });
  } catch (e) {
    await release();
    throw e;
  }
  return release;
}

/**
 * Why a case is not complete, or null when it is: its record exists and every file it lists (and
 * the raw arrays, when wanted) has the size and SHA-256 the record says. `undefined`: no record.
 */
export async function caseProblem(out: string, sidecar: CaseSidecar | undefined, wantRaw: boolean): Promise<string | null | undefined> {
  if (!sidecar) return undefined;
  const { files, case: name } = sidecar.case;
  if (wantRaw && !RAW_ARRAYS.every((a) => files.includes(rawPath(name, a)))) return 'it has no raw arrays';
  if (!sidecar.checksums) return 'its record has no checksums to check its files by';
  for (const f of files) {
    const want = sidecar.checksums[f];
    const bytes = await readFile(join(out, f)).catch(() => null);
    if (!want || !bytes) return `${f} is missing`;
    if (bytes.length !== want.bytes || sha256(bytes) !== want.sha256)
      return `${f} is not the file its record describes (${bytes.length} bytes, ${want.bytes} recorded)`;
  }
  return null;
}

/** Writes one case: its files first, its record last (the record marks it complete). */
export async function writeCase(out: string, model: DatasetModel, record: CaseRecord, files: readonly DatasetFile[], unsynced: Set<string>): Promise<void> {
  for (const f of files) await writeAtomic(out, f.path, f.bytes, unsynced);
  const checksums: Checksums = Object.fromEntries(files.map((f) => [f.path, { bytes: f.bytes.length, sha256: sha256(f.bytes) }]));
  const sidecar: CaseSidecar = { model, case: record, checksums };
  await writeAtomic(out, recordPath(record.case), new TextEncoder().encode(`${JSON.stringify(sidecar, null, 2)}\n`), unsynced);
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
 * returns the number of cases they describe. `format` is used when there is no case yet. Every
 * record is checked against `settings` (a run that only rebuilds: against the first record's), so
 * a folder that two runs of different settings filled is refused, never indexed as one dataset.
 */
export async function rebuildIndex(
  out: string,
  model: DatasetModel,
  format: ImageFormat,
  about: DatasetAbout,
  settings: FolderSettings | null,
  documents: readonly DocumentListing[],
  unsynced: Set<string>,
): Promise<number> {
  await syncWritten(unsynced); // the cases on disk before the index that lists them
  for (;;) {
    const before = await readRecords(out);
    for (const [name, s] of before) {
      if (!sameModel(s.model, model))
        throw new OutputFolderError(`${join(out, recordPath(name))} was made with another model ("${s.model.name}"); use another --out folder`);
    }
    const first = before.values().next().value;
    const want = settings ?? (first && recordSettings(first));
    if (want) checkCompatible(out, before, want);
    const records = [...before.values()].map((s) => s.case);
    // the cases' own format (a run with --count 0 that only rebuilds need not repeat --format)
    const indexFormat = records.length > 0 ? recordFormat(records[0]) : format;
    for (const f of datasetIndexFiles(records, model, { format: indexFormat, about, documentList: documents })) await writeAtomic(out, f.path, f.bytes);
    const after = await readRecords(out);
    if (after.size === before.size && [...after.keys()].every((k) => before.has(k))) return records.length;
  }
}
