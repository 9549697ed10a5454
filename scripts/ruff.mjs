// `npm run lint:py` (part of `npm test`): Ruff's lint and format check over every tracked
// training/**/*.py, with Ruff's WebAssembly build from npm (@astral-sh/ruff-wasm-nodejs) so CI needs
// no Python tooling. The settings are training/pyproject.toml's [tool.ruff] tables, the ones a native
// `ruff check` / `ruff format --check` in training/ reads: one source. The WebAssembly build sees
// contents, not paths, so settings that depend on a file's path (per-file-ignores, exclude …) are
// refused here rather than silently applied by one checker and not the other.
//   node scripts/ruff.mjs            check: prints file:line:col: RULE message, exits 1 on any finding
//   node scripts/ruff.mjs --format   also rewrites files that are not formatted (then checks)
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PositionEncoding, Workspace } from '@astral-sh/ruff-wasm-nodejs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PYPROJECT = 'training/pyproject.toml';
const EXCLUDES = ['exclude', 'extend-exclude'];
const PATH_SETTINGS = [
  'include',
  'extend-include',
  'per-file-ignores',
  'extend-per-file-ignores',
  'src',
  'force-exclude',
  'respect-gitignore',
  'extend',
  'namespace-packages',
  'per-file-target-version',
];

/** One TOML value of the kinds Ruff settings use: strings, numbers, booleans, arrays of them. */
function parseValue(text, where) {
  const t = text.trim();
  if (t.startsWith('[')) {
    const items = [];
    let rest = t.slice(1).trim();
    while (!rest.startsWith(']')) {
      const m = /^("(?:[^"\\]|\\.)*"|'[^']*'|[^,\]\s]+)\s*(,?)\s*/.exec(rest);
      if (!m) throw new Error(`${where}: cannot read the array ${t}`);
      items.push(parseValue(m[1], where));
      rest = rest.slice(m[0].length);
      if (!m[2] && !rest.startsWith(']')) throw new Error(`${where}: cannot read the array ${t}`);
    }
    if (rest.slice(1).trim()) throw new Error(`${where}: text after the array ${t}`);
    return items;
  }
  if (t.startsWith('"')) return JSON.parse(t);
  if (t.startsWith("'") && t.endsWith("'") && t.length > 1) return t.slice(1, -1);
  if (t === 'true' || t === 'false') return t === 'true';
  if (/^[+-]?\d[\d_]*(\.\d+)?$/.test(t)) return Number(t.replaceAll('_', ''));
  throw new Error(`${where}: a value this reader does not know: ${t} (strings, numbers, booleans and arrays of them)`);
}

/** The line without its comment (a # outside quotes). */
function stripComment(line) {
  let quote = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') return line.slice(0, i);
  }
  return line;
}

/** The [tool.ruff] tables of a pyproject.toml as Ruff's options object ({ 'line-length', lint: { select, isort: {…} }, format: {…} }). */
export function ruffOptions(toml, file = PYPROJECT) {
  const options = {};
  let table = null; // the options object the current [tool.ruff…] table fills; null outside them
  let pending = null; // a multi-line array being read: { key, text, line }
  const assign = (key, text, where) => {
    if (PATH_SETTINGS.includes(key)) {
      throw new Error(`${where}: ${key} depends on file paths, which the WebAssembly checker does not see; use a # noqa comment or a setting for every file`);
    }
    const value = parseValue(text, where);
    if (EXCLUDES.includes(key) && table === options) {
      // only files this checker never reads (it reads .py files): e.g. Markdown, whose Python code
      // blocks a native `ruff format` would otherwise format
      const names = [value].flat();
      if (names.every((p) => typeof p === 'string' && /\.[A-Za-z0-9]+$/.test(p) && !/\.pyi?$/.test(p))) return;
      throw new Error(`${where}: ${key} may name only files that are not Python (e.g. "*.md"): the WebAssembly checker sees no paths`);
    }
    if (EXCLUDES.includes(key)) {
      throw new Error(`${where}: ${key} depends on file paths, which the WebAssembly checker does not see; use a # noqa comment or a setting for every file`);
    }
    table[key] = value;
  };
  toml.split('\n').forEach((raw, i) => {
    const line = stripComment(raw).trim();
    if (pending) {
      pending.text += ` ${line}`;
      if (pending.text.split('[').length === pending.text.split(']').length) {
        assign(pending.key, pending.text, `${file}:${pending.line + 1}`);
        pending = null;
      }
      return;
    }
    const where = `${file}:${i + 1}`;
    if (!line) return;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      const parts = header[1].split('.').map((s) => s.trim());
      table = null;
      if (parts[0] === 'tool' && parts[1] === 'ruff') {
        const path = parts.slice(2).find((p) => PATH_SETTINGS.includes(p) || EXCLUDES.includes(p));
        if (path)
          throw new Error(
            `${where}: ${path} depends on file paths, which the WebAssembly checker does not see; use a # noqa comment or a setting for every file`,
          );
        table = options;
        for (const p of parts.slice(2)) table = table[p] ??= {};
      }
      return;
    }
    if (!table) return;
    const kv = /^([A-Za-z0-9_-]+)\s*=\s*(.*)$/.exec(line);
    if (!kv) throw new Error(`${where}: cannot read ${line}`);
    const [, key, value] = kv;
    if (value.startsWith('[') && value.split('[').length !== value.split(']').length) pending = { key, text: value, line: i };
    else assign(key, value, where);
  });
  if (pending) throw new Error(`${file}:${pending.line + 1}: unterminated array`);
  if (!Object.keys(options).length) throw new Error(`${file}: no [tool.ruff] settings`);
  return options;
}

/** Findings of one file's contents: lint diagnostics, then a format finding at the first line that differs. */
export function lintFile(workspace, path, contents) {
  const findings = [];
  const diagnostics = [...workspace.check(contents)].sort(
    (x, y) => x.start_location.row - y.start_location.row || x.start_location.column - y.start_location.column,
  );
  for (const d of diagnostics) {
    findings.push({ path, row: d.start_location.row, column: d.start_location.column, rule: d.code ?? 'syntax-error', message: d.message });
  }
  let formatted = null;
  try {
    formatted = workspace.format(contents);
  } catch (e) {
    findings.push({ path, row: 1, column: 1, rule: 'format', message: `cannot be formatted: ${e?.message ?? e}` });
  }
  if (formatted !== null && formatted !== contents) {
    const a = contents.split('\n');
    const b = formatted.split('\n');
    let row = 0;
    while (row < a.length && a[row] === b[row]) row++;
    findings.push({ path, row: row + 1, column: 1, rule: 'format', message: 'not formatted as ruff format would (npm run lint:py -- --format rewrites it)' });
  }
  return { findings, formatted };
}

/** Every tracked training/**\/*.py, relative to the repository root. */
export function trackedPython(root = ROOT) {
  const ls = spawnSync('git', ['ls-files', '-z', '--', 'training/*.py'], { cwd: root, encoding: 'utf8' });
  if (ls.status !== 0) throw new Error(`git ls-files failed: ${ls.stderr || ls.error?.message}`);
  // a tracked file deleted in the working tree is not there to check
  return ls.stdout
    .split('\0')
    .filter((p) => p && existsSync(join(root, p)))
    .sort();
}

function main(argv) {
  const write = argv.includes('--format');
  const options = ruffOptions(readFileSync(join(ROOT, PYPROJECT), 'utf8'));
  const workspace = new Workspace(options, PositionEncoding.Utf32);
  const files = trackedPython();
  const all = [];
  let rewritten = 0;
  for (const path of files) {
    const contents = readFileSync(join(ROOT, path), 'utf8');
    let { findings, formatted } = lintFile(workspace, path, contents);
    if (write && formatted !== null && formatted !== contents) {
      writeFileSync(join(ROOT, path), formatted);
      rewritten++;
      findings = lintFile(workspace, path, formatted).findings;
    }
    all.push(...findings);
  }
  for (const f of all) console.log(`${f.path}:${f.row}:${f.column}: ${f.rule} ${f.message}`);
  const summary = `ruff ${Workspace.version()} (WebAssembly), ${PYPROJECT} settings: ${files.length} files${write ? `, ${rewritten} reformatted` : ''}`;
  if (all.length) {
    console.error(`${summary}: ${all.length} finding${all.length === 1 ? '' : 's'}`);
    return 1;
  }
  console.log(`${summary}: clean`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    console.error(`error: ${e.message}`);
    process.exitCode = 2;
  }
}
