// Which steps of a run the contact sheet shows. Steps are numbered 1 … n in the UI (as the timeline
// shows them) and returned as 0-based frame indexes, ascending, without repeats.

export type StepChoice = { kind: 'even'; count: number } | { kind: 'every'; k: number } | { kind: 'list'; text: string };

export const DEFAULT_SHEET_STEPS = 8;

/** `count` steps evenly spaced over n, always including the first and the last. */
export function evenlySpacedSteps(n: number, count: number): number[] {
  if (n <= 0) return [];
  if (count >= n) return Array.from({ length: n }, (_, i) => i);
  if (count <= 1) return [n - 1];
  const out = new Set<number>();
  for (let i = 0; i < count; i++) out.add(Math.round((i * (n - 1)) / (count - 1)));
  return [...out];
}

/** Steps 1, 1 + k, 1 + 2k, …, and the last step (the figure always ends at the result). */
export function everyKthStep(n: number, k: number): number[] {
  if (n <= 0) return [];
  const out: number[] = [];
  for (let i = 0; i < n; i += k) out.push(i);
  if (out[out.length - 1] !== n - 1) out.push(n - 1);
  return out;
}

/** "1, 4, 8" or "1-4, 8" (step numbers 1 … n) to indexes; a message naming the bad part otherwise. */
export function parseStepList(text: string, n: number): number[] | string {
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  if (parts.length === 0) return 'List the steps to show, e.g. "1, 4, 8" or "1-4".';
  const out = new Set<number>();
  for (const part of parts) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return `"${part}" is not a step number or a range like 2-5.`;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (from < 1 || to > n || from > to) return `Step ${part} is outside 1 … ${n}.`;
    for (let s = from; s <= to; s++) out.add(s - 1);
  }
  return [...out].sort((a, b) => a - b);
}

/** The chosen frame indexes for a run of `n` frames, or a message saying what is wrong. */
export function chooseSteps(choice: StepChoice, n: number): number[] | string {
  if (n <= 0) return 'There are no steps yet: generate first.';
  switch (choice.kind) {
    case 'even':
      if (!Number.isInteger(choice.count) || choice.count < 1) return 'The number of steps to show must be a whole number ≥ 1.';
      return evenlySpacedSteps(n, choice.count);
    case 'every':
      if (!Number.isInteger(choice.k) || choice.k < 1) return 'Every k-th step: k must be a whole number ≥ 1.';
      return everyKthStep(n, choice.k);
    case 'list':
      return parseStepList(choice.text, n);
  }
}
