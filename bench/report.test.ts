import { describe, expect, it } from 'vitest';
import {
  BEGIN,
  COLUMNS,
  END,
  formatMs,
  keptRow,
  LATENT_MARKERS,
  type LatentReport,
  type LatentRow,
  latentTargets,
  overhead,
  parseTable,
  type Report,
  renderLatentSection,
  renderSection,
  tableRow,
  updateBenchmarks,
} from './report';

const report: Report = {
  date: '2026-01-01T00:00:00Z',
  command: 'npm run bench',
  machine: ['**Machine:** x'],
  versions: ['**Versions:** y'],
  load: ['**Load:** z'],
  model: 'm',
  rows: [
    {
      path: '(a) CLI',
      threads: '2',
      loadColdMs: 1500,
      loadCachedMs: 90,
      forwardMs: 200,
      stepMs: 420,
      pairMs: 3360,
      steps: 8,
      memory: 'RSS 400 MiB',
      note: 'a | b',
    },
    { path: '(c) WebGPU', threads: '–', skipped: 'left out by --quick' },
  ],
  findings: ['ratio 1.05×'],
};

describe('BENCHMARKS.md section', () => {
  it('formats times and the step ÷ 2 forwards ratio', () => {
    expect([formatMs(Math.PI), formatMs(42.42), formatMs(1234), formatMs(125_000), formatMs(undefined)]).toEqual([
      '3.14 ms',
      '42.4 ms',
      '1.23 s',
      '2.1 min',
      '–',
    ]);
    expect(overhead({ path: '', threads: '', stepMs: 420, forwardMs: 200 })).toBe('1.05×');
    expect(tableRow(report.rows[0])).toBe('| (a) CLI | 2 | 1.50 s | 90.0 ms | 200.0 ms | 420.0 ms | 1.05× | 3.36 s (8 steps) | RSS 400 MiB | a \\| b |');
  });

  it('renders a table that reads back, skipped rows saying why', () => {
    const { header, rows } = parseTable(renderSection(report));
    expect(header).toEqual(COLUMNS);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toHaveLength(COLUMNS.length);
    expect(rows[1][9]).toBe('not measured: left out by --quick');
  });

  it('replaces only the measured section, keeping the text around it', () => {
    const section = renderSection(report);
    expect(updateBenchmarks(null, section)).toBe(`# Benchmarks\n\n${section}\n`);
    const file = `# Benchmarks\n\nintro\n\n${BEGIN}\nold\n${END}\n\n## Why WASM is slower\n\nanalysis\n`;
    const updated = updateBenchmarks(file, section);
    expect(updated).toBe(`# Benchmarks\n\nintro\n\n${section}\n\n## Why WASM is slower\n\nanalysis\n`);
    expect(updateBenchmarks('# Notes\n', section)).toBe(`# Notes\n\n${section}\n`);
    expect(() => parseTable('# nothing')).toThrow(/no measured section/);
  });
});

describe('keeping a path this run leaves out', () => {
  it('takes the previous measured row with its date and load, never a "not measured" one', () => {
    const previous = updateBenchmarks(null, renderSection({ ...report, load: ['**Load at the start:** busy', '**Load at the end:** busier'] }));
    const kept = keptRow(previous, '(a)');
    expect(kept?.when).toBe('2026-01-01T00:00:00Z');
    const tagged = [
      '**Load at the start (the run of 2026-01-01T00:00:00Z, kept rows):** busy',
      '**Load at the end (the run of 2026-01-01T00:00:00Z, kept rows):** busier',
    ];
    expect(kept?.load).toEqual(tagged);
    expect(kept?.row.kept?.[4]).toBe('200.0 ms');
    expect(kept?.row.kept?.[9]).toBe('a | b [kept from 2026-01-01T00:00:00Z]');
    expect(keptRow(previous, '(c)')).toBeNull();
    expect(keptRow(null, '(a)')).toBeNull();
    // kept again by a later run: still its own run's date and load lines, not the later run's
    const again = updateBenchmarks(
      previous,
      renderSection({ ...report, date: '2026-02-02T00:00:00Z', load: ['**Load at the start:** quiet', ...tagged], rows: [kept!.row] }),
    );
    const twice = keptRow(again, '(a)');
    expect(twice?.when).toBe('2026-01-01T00:00:00Z');
    expect(twice?.row.kept?.[9]).toBe('a | b [kept from 2026-01-01T00:00:00Z]');
    expect(twice?.load).toEqual(tagged);
  });
});

describe('the latent section (npm run bench -- --latent)', () => {
  const row = (path: string, latent: boolean, stepMs: number): LatentRow => ({
    path,
    model: latent ? 'latent 256²' : 'pixel 64²',
    latent,
    threads: 2,
    forwardMs: stepMs / 2,
    stepMs,
    stepGuidedMs: latent ? 1.6 * stepMs : null,
    decodeMs: latent ? 30 : null,
    firstPreviewMs: 40,
  });
  const rep: LatentReport = {
    date: '2026-01-01T00:00:00Z',
    command: 'npm run bench -- --latent',
    header: ['**Machine:** x'],
    rows: [row('ORT-node', false, 30), row('ORT-node', true, 33), row('WASM', true, 200)],
    download: { totalBytes: 1_250_000, files: 7, weightBytes: 1_000_000 },
    notes: ['No WebGPU rows.'],
  };

  it('states each target as a measured ratio, per path, and the download', () => {
    expect(latentTargets(rep.rows, rep.download)).toEqual([
      'ORT-node: latent joint step ÷ pixel-space joint step of the same preset at the grid: **1.10×** (target ≤ 1.2×).',
      'ORT-node: decode ÷ latent joint step: **0.91×** (target ≤ 1×).',
      'ORT-node: Generate → first preview (model loaded and warm): **40.0 ms** (target ≤ 1 s).',
      'ORT-node: guidance w = 2 ÷ w = 1 (two forwards per U-Net against one): 1.60×.',
      'WASM: decode ÷ latent joint step: **0.15×** (target ≤ 1×).', // no pixel row on this path: no step ratio
      'WASM: Generate → first preview (model loaded and warm): **40.0 ms** (target ≤ 1 s).',
      'WASM: guidance w = 2 ÷ w = 1 (two forwards per U-Net against one): 1.60×.',
      "Download: the latent model folder, 1.25 MB in 7 files, ÷ its graphs' weights 1.00 MB: **1.25×** (target ≤ 1.25×).",
    ]);
  });

  it('renders its own marked section, which leaves the main table alone', () => {
    const section = renderLatentSection(rep);
    expect(section.startsWith(LATENT_MARKERS.begin) && section.endsWith(LATENT_MARKERS.end)).toBe(true);
    expect(section).toContain('| ORT-node | pixel 64² | 2 | 15.0 ms | 30.0 ms | – (no attributes) | – (pixel space) | 40.0 ms |');
    expect(section).toContain('- No WebGPU rows.');
    const main = updateBenchmarks(null, renderSection(report));
    const both = updateBenchmarks(main, section, LATENT_MARKERS);
    expect(parseTable(both).rows).toEqual(parseTable(main).rows);
    const again = updateBenchmarks(both, renderLatentSection({ ...rep, notes: ['changed'] }), LATENT_MARKERS);
    expect(again).toContain('- changed');
    expect(again).not.toContain('No WebGPU rows.');
  });
});
