// BENCHMARKS.md's measured section, from the results of one `npm run bench`. Pure (no I/O).
// The section sits between two marker comments, so the hand-written analysis around it survives
// a re-run: only what is between the markers is replaced.

export const BEGIN = '<!-- bench:begin (written by npm run bench; edits here are overwritten) -->';
export const END = '<!-- bench:end -->';

/** The comments around a measured section: npm run bench's (BEGIN, END), or another command's. */
export interface Markers {
  begin: string;
  end: string;
}

/** One path (a table row). Times in ms; memory as text (RSS, PSS or heap, said in the text). */
export interface Row {
  path: string;
  threads: string;
  loadColdMs?: number;
  loadCachedMs?: number;
  forwardMs?: number;
  stepMs?: number;
  pairMs?: number;
  steps?: number;
  memory?: string;
  note?: string;
  /** why this path was not measured (the row says so instead of numbers) */
  skipped?: string;
  /** a row kept as it was from the previous run's table (its cells, already formatted) */
  kept?: string[];
}

export interface Report {
  date: string;
  command: string;
  machine: string[];
  versions: string[];
  load: string[];
  model: string;
  rows: Row[];
  /** extra lines under the table: ratios against the targets, streaming overhead */
  findings: string[];
}

export function formatMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/** step ÷ (2 forwards): what the joint step costs beyond its two U-Net calls (1.00 = nothing). */
export function overhead(row: Row): string {
  if (row.stepMs === undefined || row.forwardMs === undefined || row.forwardMs <= 0) return '–';
  return `${(row.stepMs / (2 * row.forwardMs)).toFixed(2)}×`;
}

export const COLUMNS = [
  'path',
  'threads',
  'load (cold)',
  'load (cached)',
  'one U-Net forward',
  'joint step',
  'step ÷ 2 forwards',
  'pair',
  'peak memory',
  'notes',
];

/** A Markdown table: the header, its rule, one line per row ('|' in a cell escaped). */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const line = (cells: readonly string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(line)];
}

export function tableRow(r: Row): string {
  const cells = r.kept
    ? r.kept
    : r.skipped
      ? [r.path, r.threads, '–', '–', '–', '–', '–', '–', '–', `not measured: ${r.skipped}`]
      : [
          r.path,
          r.threads,
          formatMs(r.loadColdMs),
          formatMs(r.loadCachedMs),
          formatMs(r.forwardMs),
          formatMs(r.stepMs),
          overhead(r),
          r.pairMs === undefined ? '–' : `${formatMs(r.pairMs)} (${r.steps} step${r.steps === 1 ? '' : 's'})`,
          r.memory ?? '–',
          r.note ?? '',
        ];
  return markdownTable([], [cells])[2];
}

export function renderSection(rep: Report): string {
  const lines = [
    BEGIN,
    `Measured ${rep.date} with \`${rep.command}\`.`,
    '',
    `- **Model:** ${rep.model}`,
    ...rep.machine.map((m) => `- ${m}`),
    ...rep.versions.map((v) => `- ${v}`),
    ...rep.load.map((l) => `- ${l}`),
    '',
    ...markdownTable(COLUMNS, []),
    ...rep.rows.map(tableRow),
    '',
    ...rep.findings.map((f) => `- ${f}`),
    END,
  ];
  return lines.join('\n');
}

/** The file with its measured section replaced (or appended, or the file created around it). */
export function updateBenchmarks(existing: string | null, section: string, { begin, end }: Markers = { begin: BEGIN, end: END }): string {
  if (existing === null || existing.trim() === '') return `# Benchmarks\n\n${section}\n`;
  const a = existing.indexOf(begin);
  const b = existing.indexOf(end);
  if (a >= 0 && b > a) return existing.slice(0, a) + section + existing.slice(b + end.length);
  return `${existing.replace(/\s*$/, '')}\n\n${section}\n`;
}

/**
 * The previous section's measured row of a path (by its "(a)" … "(d)" label), to keep when this run
 * leaves the path out: its cells with a note of when it was measured and under what load.
 */
export function keptRow(previous: string | null, label: string): { row: Row; when: string; load: string[] } | null {
  if (!previous) return null;
  let table;
  try {
    table = parseTable(previous);
  } catch {
    return null;
  }
  const cells = table.rows.find((r) => r[0].startsWith(label));
  if (!cells || cells.length !== COLUMNS.length || cells[9].startsWith('not measured')) return null;
  const section = previous.slice(previous.indexOf(BEGIN), previous.indexOf(END));
  const loadLines = [...section.matchAll(/^- (\*\*Load at the (?:start|end)[^\n]*)$/gm)].map((m) => m[1]);
  // A row kept once already keeps its own run's date and load lines; a row of the last run takes
  // that run's untagged load lines, tagged with its date.
  const keptBefore = / \[kept from ([^\]]*)\]$/.exec(cells[9])?.[1];
  const when = keptBefore ?? /^Measured (\S+)/m.exec(section)?.[1] ?? 'an earlier run';
  const tag = `(the run of ${when}, kept rows)`;
  const load = keptBefore
    ? loadLines.filter((l) => l.includes(tag))
    : loadLines.filter((l) => !l.includes('(the run of ')).map((l) => l.replace(/:\*\*/, ` ${tag}:**`));
  const kept = [...cells];
  if (!keptBefore) kept[9] = `${kept[9]} [kept from ${when}]`;
  return { row: { path: cells[0], threads: cells[1], kept }, when, load };
}

/** Reads the measured table back (the test's check that the file is well-formed): header and rows as cells. */
export function parseTable(markdown: string): { header: string[]; rows: string[][] } {
  const a = markdown.indexOf(BEGIN);
  const b = markdown.indexOf(END);
  if (a < 0 || b < a) throw new Error('no measured section (bench markers) in the file');
  const table = markdown
    .slice(a, b)
    .split('\n')
    .filter((l) => l.startsWith('|'));
  const cells = (l: string) =>
    l
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((c) => c.trim().replace(/\\\|/g, '|'));
  if (table.length < 2) throw new Error('the measured section holds no table');
  return { header: cells(table[0]), rows: table.slice(2).map(cells) };
}

/** `npm run bench -- --latent`'s section (its own markers: the main table above it survives). */
export const LATENT_MARKERS: Markers = {
  begin: '<!-- bench:latent:begin (written by npm run bench -- --latent; edits here are overwritten) -->',
  end: '<!-- bench:latent:end -->',
};

/** One model on one backend (latent-child.ts's result, with the labels of its row). */
export interface LatentRow {
  path: string;
  model: string;
  latent: boolean;
  threads: number;
  forwardMs: number;
  stepMs: number;
  stepGuidedMs: number | null;
  decodeMs: number | null;
  firstPreviewMs: number;
}

export interface LatentReport {
  date: string;
  command: string;
  header: string[];
  rows: LatentRow[];
  /** the latent folder's bytes: every file in it, and its graphs' weights (their initializers) */
  download: { totalBytes: number; files: number; weightBytes: number };
  notes: string[];
}

export const LATENT_COLUMNS = [
  'path',
  'model',
  'threads',
  'one U-Net forward',
  'joint step (w = 1)',
  'joint step (w = 2)',
  'decode',
  'Generate → first preview',
];

const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(2)} MB`;

/** The targets, one line each, per path where both rows were measured (never asserted). */
export function latentTargets(rows: readonly LatentRow[], download: LatentReport['download']): string[] {
  const out: string[] = [];
  for (const path of [...new Set(rows.map((r) => r.path))]) {
    const pixel = rows.find((r) => r.path === path && !r.latent);
    const latent = rows.find((r) => r.path === path && r.latent);
    if (!latent) continue;
    if (pixel)
      out.push(
        `${path}: latent joint step ÷ pixel-space joint step of the same preset at the grid: **${ratio(latent.stepMs, pixel.stepMs)}** (target ≤ 1.2×).`,
      );
    if (latent.decodeMs !== null) out.push(`${path}: decode ÷ latent joint step: **${ratio(latent.decodeMs, latent.stepMs)}** (target ≤ 1×).`);
    out.push(`${path}: Generate → first preview (model loaded and warm): **${formatMs(latent.firstPreviewMs)}** (target ≤ 1 s).`);
    if (latent.stepGuidedMs !== null)
      out.push(`${path}: guidance w = 2 ÷ w = 1 (two forwards per U-Net against one): ${ratio(latent.stepGuidedMs, latent.stepMs)}.`);
  }
  const { totalBytes, files, weightBytes } = download;
  out.push(
    `Download: the latent model folder, ${mb(totalBytes)} in ${files} files, ÷ its graphs' weights ${mb(weightBytes)}: **${ratio(totalBytes, weightBytes)}** (target ≤ 1.25×).`,
  );
  return out;
}

export function renderLatentSection(rep: LatentReport): string {
  const cells = (r: LatentRow) => [
    r.path,
    r.model,
    String(r.threads),
    formatMs(r.forwardMs),
    formatMs(r.stepMs),
    r.stepGuidedMs === null ? '– (no attributes)' : formatMs(r.stepGuidedMs),
    r.decodeMs === null ? '– (pixel space)' : formatMs(r.decodeMs),
    formatMs(r.firstPreviewMs),
  ];
  return [
    LATENT_MARKERS.begin,
    `Measured ${rep.date} with \`${rep.command}\`, every row in this one run.`,
    '',
    ...rep.header.map((h) => `- ${h}`),
    '',
    ...markdownTable(LATENT_COLUMNS, rep.rows.map(cells)),
    '',
    ...[...latentTargets(rep.rows, rep.download), ...rep.notes].map((f) => `- ${f}`),
    LATENT_MARKERS.end,
  ].join('\n');
}
