// npm run bench:webgpu's report (run-webgpu.ts measures): the results as JSON and their Markdown section,
// rendered from the JSON alone (so a device run's results.json renders here too). Pure (no I/O).
import { relative } from 'node:path';
import type { AdapterFacts } from './dawn';
import { formatMs, type Markers, markdownTable } from './report';

export const VARIANTS = ['fp32', 'fp32-capture', 'fp16', 'fp16-capture'] as const;
export type Variant = (typeof VARIANTS)[number];

/** Peak arithmetic of the adapters whose peak we know, without tensor cores (WebGPU has no access to them). */
export interface Peak {
  name: string;
  fp32Tflops: number;
  fp16Tflops: number;
  source: string;
}
export const PEAKS: { match: RegExp; peak: Peak }[] = [
  {
    match: /H200/i,
    peak: {
      name: 'NVIDIA H200 (SXM)',
      fp32Tflops: 66.9,
      fp16Tflops: 133.8,
      source:
        '132 SMs × 128 FP32 lanes × 2 FLOP per FMA × 1.98 GHz boost = 66.9 TFLOP/s; float16 twice that (packed half2 FMA), 133.8 TFLOP/s: ' +
        'the non-tensor figures of NVIDIA\'s H100 SXM5 ("NVIDIA H100 Tensor Core GPU Architecture" whitepaper); the H200 is the same GH100 ' +
        'configuration with more memory (the device machine reads 132 SMs and 1980 MHz, .library/device/KINDS.md)',
    },
  },
];

export interface ModelInfo {
  dir: string;
  name: string;
  resolution: number;
  preset: string;
  /** Conv/Gemm/MatMul FLOPs of one joint step (maskStep + imageStep), pigkit.flops */
  flopsPerStep: number | null;
  /** the float16 conversion's folder, or why there is none */
  fp16Dir?: string;
  fp16Note?: string;
  exportMs?: number;
}

export interface Result {
  model: string;
  resolution: number;
  variant: Variant;
  skipped?: string;
  loadMs?: number;
  forwardMs?: { maskStep: number; imageStep: number };
  steps?: number;
  stepOffMs?: number;
  stepOnMs?: number;
  /** max |Δ| of x̂₀ over every step of the pair against the fp32 row's (null: no fp32 row) */
  x0VsFp32?: number | null;
  note?: string;
}

export interface WebgpuReport {
  date: string;
  command: string;
  adapter: AdapterFacts | null;
  adapterError?: string;
  /** ORT's first WebGPU session in the process (run-webgpu.ts engineStart) */
  engineStartMs?: number;
  peak: Peak | null;
  runtime: string;
  machine: string[];
  load: string[];
  models: ModelInfo[];
  results: Result[];
}

export function markers(section: string): Markers {
  return {
    begin: `<!-- bench:webgpu:${section}:begin (written by npm run bench:webgpu; edits here are overwritten) -->`,
    end: `<!-- bench:webgpu:${section}:end -->`,
  };
}

const COLUMNS = [
  'model',
  'variant',
  'load',
  'maskStep run',
  'imageStep run',
  'joint step, previews off',
  'joint step, previews on',
  'streaming',
  'pair timed',
  '256-step pair',
  'GFLOP / step',
  'achieved',
  'of peak',
  'x̂₀ vs fp32 (max |Δ|)',
  'notes',
];

/** The section of one run: adapter, peak, machine, the table, the goals. Pure (the --render path too). */
export function renderWebgpu(rep: WebgpuReport, section: string, root: string): string {
  const { begin, end } = markers(section);
  const a = rep.adapter;
  const lines = [begin, `Measured ${rep.date} with ${rep.command.replace(/npm run bench:webgpu.*$/, (c) => `\`${c}\``)}.`, ''];
  lines.push(
    a
      ? `- **Adapter:** ${a.description || '?'} (vendor ${a.vendor || '?'}, architecture ${a.architecture || '?'}, device ${a.device || '?'}); shader-f16: ${a.shaderF16 ? 'yes' : 'no'}; Vulkan ICD: ${a.icd ?? 'the loader’s default'}`
      : `- **Adapter:** none: ${rep.adapterError ?? 'not set up'}`,
  );
  lines.push(
    rep.peak
      ? `- **Peak (no tensor cores: WebGPU cannot reach them):** ${rep.peak.name}, float32 ${rep.peak.fp32Tflops} TFLOP/s, float16 ${rep.peak.fp16Tflops} TFLOP/s: ${rep.peak.source}`
      : `- **Peak:** none known for this adapter${/swiftshader/i.test(a?.architecture ?? '') ? ' (SwiftShader is Vulkan on the CPU: no GPU peak to compare with)' : ''}`,
  );
  if (rep.runtime) lines.push(`- **Runtime:** ${rep.runtime}`);
  if (rep.engineStartMs !== undefined) {
    lines.push(
      `- **Engine start:** ${formatMs(rep.engineStartMs)} for ORT's first WebGPU session in the process (the tiny model's mask step graph, created and released: WASM compilation, device, V8's tiering), apart from each row's load`,
    );
  }
  lines.push(...rep.machine.map((m) => `- ${m}`), ...rep.load.map((l) => `- ${l}`));
  for (const m of rep.models) {
    const flops = m.flopsPerStep === null ? 'FLOPs unknown (shapes not static)' : `${(m.flopsPerStep / 1e9).toFixed(2)} GFLOP per joint step (pigkit.flops)`;
    lines.push(
      `- **Model:** ${m.name} (${relative(root, m.dir) || m.dir}), ${m.resolution}², preset ${m.preset}; ${flops}${m.exportMs ? `; exported in ${formatMs(m.exportMs)}` : ''}`,
    );
  }
  lines.push('');
  const flopsOf = (r: Result) => rep.models.find((m) => m.name === r.model && m.resolution === r.resolution)?.flopsPerStep ?? null;
  const rows = rep.results.map((r) => {
    if (r.skipped) return [r.model, r.variant, '–', '–', '–', '–', '–', '–', '–', '–', '–', '–', '–', '–', `not measured: ${r.skipped}`];
    const flops = flopsOf(r);
    const tflops = flops !== null && r.stepOffMs ? flops / (r.stepOffMs / 1000) / 1e12 : null;
    const peak = rep.peak ? (r.variant.startsWith('fp16') ? rep.peak.fp16Tflops : rep.peak.fp32Tflops) : null;
    const streaming = r.stepOffMs && r.stepOnMs ? `${(((r.stepOnMs - r.stepOffMs) / r.stepOffMs) * 100).toFixed(1)}%` : '–';
    const pair256 = r.stepOffMs === undefined ? '–' : `${formatMs(256 * r.stepOffMs)}${r.steps === 256 ? '' : ` (projected from ${r.steps})`}`;
    return [
      r.model,
      r.variant,
      formatMs(r.loadMs),
      formatMs(r.forwardMs?.maskStep),
      formatMs(r.forwardMs?.imageStep),
      formatMs(r.stepOffMs),
      formatMs(r.stepOnMs),
      streaming,
      r.steps === undefined ? '–' : `${r.steps} step${r.steps === 1 ? '' : 's'}`,
      pair256,
      flops === null ? '–' : (flops / 1e9).toFixed(2),
      tflops === null ? '–' : tflops >= 0.1 ? `${tflops.toFixed(2)} TFLOP/s` : `${(tflops * 1000).toFixed(2)} GFLOP/s`,
      tflops !== null && peak ? `${((100 * tflops) / peak).toFixed(tflops / peak < 0.01 ? 3 : 1)}%` : '–',
      r.variant === 'fp32' ? '(reference)' : r.x0VsFp32 === undefined || r.x0VsFp32 === null ? '–' : r.x0VsFp32.toExponential(2),
      r.note ?? '',
    ];
  });
  lines.push(...markdownTable(COLUMNS, rows), '');
  lines.push(...goals(rep).map((g) => `- ${g}`));
  lines.push(end);
  return lines.join('\n');
}

/** The issue's goals against the best row of each size (never asserted). */
function goals(rep: WebgpuReport): string[] {
  const measured = rep.results.filter((r) => !r.skipped && r.stepOffMs !== undefined);
  const best = (res: number) => measured.filter((r) => r.resolution === res && /paper/.test(r.model)).sort((a, b) => a.stepOffMs! - b.stepOffMs!)[0];
  const out: string[] = [];
  for (const [res, target] of [
    [512, 10_000],
    [128, 1000],
  ] as const) {
    const b = best(res);
    out.push(
      b
        ? `256-step pair of the paper preset at ${res}²: **${formatMs(256 * b.stepOffMs!)}** (${b.variant}${b.steps === 256 ? '' : `, projected from ${b.steps} steps`}; goal ≤ ${formatMs(target)}).`
        : `256-step pair of the paper preset at ${res}²: not measured in this run (goal ≤ ${formatMs(target)}).`,
    );
  }
  const streaming = measured
    .filter((r) => r.stepOnMs !== undefined)
    .map((r) => `${r.resolution}² ${r.variant} ${(((r.stepOnMs! - r.stepOffMs!) / r.stepOffMs!) * 100).toFixed(1)}%`);
  out.push(
    `Streaming overhead (previews on ÷ off − 1; goal ≤ 3% of a step): ${streaming.join(', ') || 'not measured'}. One pair each way: within noise where the steps are few.`,
  );
  return out;
}
