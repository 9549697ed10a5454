import { describe, expect, it } from 'vitest';
import {
  caseRequest,
  checkArguments,
  checkAttributes,
  checkRetrySeeds,
  editDistance,
  inputJobs,
  MAX_CASES,
  maskCasePrefix,
  pairJobs,
  parseAttributes,
  parseClip,
  parseEta,
  parseGuidance,
  parseInteger,
  parseShard,
  REJECT_EMPTY_RETRIES,
  retrySeed,
  shardSeeds,
} from './plan';
import { formatDuration, formatProgress, ProgressBar, printable } from './progress';

describe('the command line before parseArgs: one plain line per mistake', () => {
  const options = {
    count: { type: 'string' },
    seed: { type: 'string' },
    model: { type: 'string' },
    mode: { type: 'string' },
    'dataset-id': { type: 'string' },
    resume: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  } as const;
  const check = (...argv: string[]) => checkArguments(argv, options);

  it('passes good arguments on, a dash-number value as --name=value (then the option names its range)', () => {
    expect(check('--count', '4', '--resume', '-h', '--seed=7')).toEqual(['--count=4', '--resume', '-h', '--seed=7']);
    expect(check('--count', '-1', '--seed', '-5')).toEqual(['--count=-1', '--seed=-5']);
  });

  it('an unknown option names the nearest known one (typo, swap, prefix), or none', () => {
    expect(() => check('--cuont', '3')).toThrow(/^unknown option --cuont; did you mean --count\?$/);
    expect(() => check('--sed', '3')).toThrow(/^unknown option --sed; did you mean --seed\?$/);
    expect(() => check('--modle', 'x')).toThrow(/^unknown option --modle; did you mean --model\?$/);
    expect(() => check('--dataset', '3')).toThrow(/^unknown option --dataset; did you mean --dataset-id\?$/);
    expect(() => check('--frobnicate')).toThrow(/^unknown option --frobnicate$/);
    expect(() => check('-x')).toThrow(/^unknown option -x$/);
  });

  it('a missing value, a switch with a value, a stray argument', () => {
    expect(() => check('--count')).toThrow(/^--count needs a value$/);
    expect(() => check('--count', '--seed', '3')).toThrow(/^--count needs a value$/);
    expect(() => check('--model', '-odd')).toThrow(/^--model needs a value; for one that starts with a dash write --model=-odd$/);
    expect(() => check('--resume=yes')).toThrow(/^--resume takes no value, got "yes"$/);
    expect(() => check('20')).toThrow(/^unexpected argument "20"; every value follows its option \(e\.g\. --count 20\)$/);
    expect(() => check('--', 'x')).toThrow(/^unexpected argument "x"/);
  });

  it('edit distance: insertions, deletions, substitutions, adjacent swaps', () => {
    expect(editDistance('count', 'count')).toBe(0);
    expect(editDistance('cuont', 'count')).toBe(1);
    expect(editDistance('sed', 'seed')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});

describe('shards', () => {
  it('i/n blocks partition K … K+N−1 exactly, in order, sizes within one', () => {
    for (const [count, n] of [
      [10, 3],
      [4, 2],
      [2, 5],
      [0, 3],
      [7, 1],
    ]) {
      const blocks = Array.from({ length: n }, (_, i) => shardSeeds(100, count, { index: i, count: n }));
      expect(blocks.flat()).toEqual(Array.from({ length: count }, (_, k) => 100 + k));
      const sizes = blocks.map((b) => b.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
    expect(shardSeeds(0, 10, { index: 1, count: 3 })).toEqual([3, 4, 5]); // ⌊10/3⌋ … ⌊20/3⌋−1
  });

  it('mask jobs are sharded by the same blocks as the seeds, over the (mask, seed) list', () => {
    const m = (file: string) => ({ file, sha256: 'ab', values: new Float32Array(1), note: '' });
    const masks = [m('a.png'), m('b.png')];
    const all = inputJobs(masks, 'mask', 3, 5).map((j) => j.name);
    const blocks = Array.from({ length: 3 }, (_, i) => inputJobs(masks, 'mask', 3, 5, { index: i, count: 3 }).map((j) => j.name));
    expect(blocks.flat()).toEqual(all);
    expect(blocks.map((b) => b.length)).toEqual(Array.from({ length: 3 }, (_, i) => shardSeeds(0, 10, { index: i, count: 3 }).length));
  });

  it('a huge --count is refused in one line before any list is built (no "Invalid array length")', () => {
    const m = (file: string) => ({ file, sha256: 'ab', values: new Float32Array(1), note: '' });
    expect(() => shardSeeds(0, 0xffffffff, { index: 0, count: 4 })).toThrow(
      `--count 4294967295 gives 4294967295 cases; one run makes at most ${MAX_CASES} (its index lists every case): split the seed range over several --out folders`,
    );
    expect(() => inputJobs([m('a.png'), m('b.png')], 'mask', 0, MAX_CASES)).toThrow(`--count ${MAX_CASES} × 2 masks gives ${2 * MAX_CASES} cases`);
    expect(shardSeeds(0, MAX_CASES, { index: 3, count: 4 })).toHaveLength(MAX_CASES / 4);
  });

  it('mask jobs: one per mask and seed, named after the file; clashing or nameless files are refused', () => {
    const m = (file: string) => ({ file, sha256: 'ab', values: new Float32Array(1), note: '' });
    expect(maskCasePrefix('Case 01 (left).PNG')).toBe('Case-01--left-');
    const jobs = inputJobs([m('a.png'), m('b c.png')], 'mask', 7, 2);
    expect(jobs.map((j) => j.name)).toEqual(['a_0000000007', 'a_0000000008', 'b-c_0000000007', 'b-c_0000000008']);
    expect(jobs[2]).toMatchObject({ seed: 7, prefix: 'b-c', mode: { kind: 'maskToImage' }, source: { file: 'b c.png', sha256: 'ab' } });
    expect(inputJobs([m('a.png'), m('b c.png')], 'mask', 7, 2, { index: 1, count: 2 }).map((j) => j.name)).toEqual(['b-c_0000000007', 'b-c_0000000008']);
    expect(() => inputJobs([m('b c.png'), m('b-c.png')], 'mask', 0, 1)).toThrow(
      /mask files "b c\.png" and "b-c\.png" give the same case name "b-c"; rename one/,
    );
    expect(() => maskCasePrefix('__.png')).toThrow(/gives no usable case name/);
  });

  it('image jobs (image2mask): one per image and seed, the image as the sampler’s imageToMask input', () => {
    const values = Float32Array.from([0.5, -1]);
    const jobs = inputJobs([{ file: 'scan 1.png', sha256: 'cd', values, note: '' }], 'image', 4, 2);
    expect(jobs.map((j) => j.name)).toEqual(['scan-1_0000000004', 'scan-1_0000000005']);
    expect(jobs[1]).toMatchObject({ seed: 5, mode: { kind: 'imageToMask', image: values }, source: { file: 'scan 1.png', sha256: 'cd' } });
    const m = (file: string) => ({ file, sha256: 'ab', values, note: '' });
    expect(() => inputJobs([m('a b.png'), m('a-b.png')], 'image', 0, 1)).toThrow(/^image files "a b\.png" and "a-b\.png" give the same case name/);
  });

  it('--reject-empty: the tries of seed K+j are K+j+i·N, disjoint over cases and shards; the last seed bounded', () => {
    const [K, N] = [10, 6];
    const tried = shardSeeds(K, N).flatMap((s) => Array.from({ length: REJECT_EMPTY_RETRIES + 1 }, (_, i) => retrySeed(s, N, i)));
    expect(new Set(tried).size).toBe(N * (REJECT_EMPTY_RETRIES + 1));
    expect(Math.min(...tried)).toBe(K);
    expect(Math.max(...tried)).toBe(K + N * (REJECT_EMPTY_RETRIES + 1) - 1);
    expect(retrySeed(12, N, 0)).toBe(12);
    expect(retrySeed(12, N, 2)).toBe(24);
    expect(() => checkRetrySeeds(0xffffffff - 20, 2)).toThrow(
      `--reject-empty may try seeds up to ${0xffffffff - 20 + 1 + REJECT_EMPTY_RETRIES * 2} (each case's seed + up to ${REJECT_EMPTY_RETRIES} × --count), past 4294967295; use a lower --seed or --count`,
    );
    expect(() => checkRetrySeeds(1000, 100)).not.toThrow();
  });

  it('parses i/n and says what is wrong', () => {
    expect(parseShard('3/4')).toEqual({ index: 3, count: 4 });
    expect(() => parseShard('4/4')).toThrow(/i must be in 0 … 3 \(0-based/);
    expect(() => parseShard('1-4')).toThrow(/--shard must be i\/n/);
    expect(() => parseShard('0/0')).toThrow(/n must be ≥ 1/);
  });

  it('numbers: integers in range, η in 0 … 1', () => {
    expect(parseInteger('count', '12')).toBe(12);
    expect(() => parseInteger('count', '1.5')).toThrow(/^--count must be a whole number in 0 … \d+, got "1.5"$/);
    expect(() => parseInteger('steps', '0', 1)).toThrow(/^--steps must be a whole number in 1 … \d+, got "0"$/);
    expect(() => parseInteger('count', '-1', 0, 9)).toThrow(/^--count must be a whole number in 0 … 9, got "-1"$/);
    expect(parseEta('0.5')).toBe(0.5);
    expect([' 1 ', '0', '1e-1', '.25'].map(parseEta)).toEqual([1, 0, 0.1, 0.25]);
    // η past 1 saturates the chains (src/core/limits.ts); hex, Infinity, NaN and '' are not the number meant
    for (const bad of ['-1', '1.0001', '1e30', '0x10', 'Infinity', 'NaN', '', ' ', '1_0', '0b1'])
      expect(() => parseEta(bad), bad).toThrow(`--eta must be a number from 0 (deterministic DDIM) to 1 (DDPM-like), got "${bad}"`);
    expect(['none', 'image', 'both'].map(parseClip)).toEqual(['none', 'image', 'both']);
    expect(() => parseClip('Both')).toThrow('--clip must be none, image, both, got "Both"');
  });

  it('pair jobs are named by seed', () => {
    expect(pairJobs([7])).toEqual([{ name: 'pig_0000000007', seed: 7, mode: { kind: 'pair' } }]);
  });
});

describe('progress line', () => {
  it('bar, count, rate of generated cases, ETA from that rate', () => {
    expect(formatProgress({ done: 3, total: 12, generated: 2, elapsedMs: 3000 }, 12)).toBe('[###.........] 3/12 cases · 1.50 s/case · ETA 14s');
    expect(formatProgress({ done: 2, total: 4, generated: 0, elapsedMs: 0 }, 4)).toBe('[##..] 2/4 cases · ETA ?');
    expect(formatProgress({ done: 4, total: 4, generated: 4, elapsedMs: 400 }, 4)).toBe('[####] 4/4 cases · 0.10 s/case · done');
    expect(formatDuration(3_725_000)).toBe('1h02m');
    expect(formatDuration(75_000)).toBe('1m15s');
  });
});

describe('printable', () => {
  it('escapes control characters and bidirectional overrides, keeps the rest (η, ×, accents)', () => {
    expect(printable('a\x1b[2Jb\x07\r\n\x9b\u202eη×é')).toBe('a\\x1b[2Jb\\x07\\x0d\\x0a\\x9b\\u202eη×é');
  });
});

describe('progress bar', () => {
  const sink = (isTTY: boolean) => {
    const writes: string[] = [];
    return { writes, stream: { isTTY, write: (s: string) => writes.push(s) } };
  };
  it('on a terminal: redraws one line per update, a newline at the end', () => {
    const { writes, stream } = sink(true);
    const bar = new ProgressBar(stream, 3);
    for (let d = 1; d <= 3; d++) bar.update({ done: d, generated: d, elapsedMs: 1000 * d });
    expect(writes.filter((w) => w.startsWith('\r\x1b[2K'))).toHaveLength(3);
    expect(writes.at(-1)).toBe('\n');
    expect(writes.join('')).not.toMatch(/\n.*\n/s);
  });
  it('on a terminal: a case line printed between updates gets a line of its own, the bar stays the last line', () => {
    // a fake terminal that stdout and stderr share: \r returns to the line's start, ESC[2K clears it
    const lines = [''];
    const terminal = {
      isTTY: true,
      write(s: string) {
        // biome-ignore lint/suspicious/noControlCharactersInRegex: a terminal's control sequences are the point
        for (const part of s.split(/(\r|\x1b\[2K|\n)/)) {
          if (part === '\n') lines.push('');
          else if (part === '\x1b[2K') lines[lines.length - 1] = '';
          else if (part !== '\r') lines[lines.length - 1] += part;
        }
      },
    };
    const bar = new ProgressBar(terminal, 2);
    bar.update({ done: 0 });
    bar.above(() => terminal.write('seed 1: 5 ms\n'));
    bar.update({ done: 1, generated: 1, elapsedMs: 1000 });
    expect(lines).toEqual(['seed 1: 5 ms', expect.stringMatching(/^\[#+\.+\] 1\/2 cases · 1\.00 s\/case · ETA 1s$/)]);
    bar.above(() => terminal.write('seed 2: 5 ms\n'));
    bar.update({ done: 2, generated: 2, elapsedMs: 2000 });
    expect(lines).toEqual(['seed 1: 5 ms', 'seed 2: 5 ms', expect.stringMatching(/ 2\/2 cases · 1\.00 s\/case · done$/), '']);
    // stopped early (a signal, an error): the bar's line is ended, so the message starts a line
    const early = new ProgressBar(terminal, 5);
    early.update({ done: 1 });
    early.end();
    terminal.write('generate: interrupted\n');
    expect(lines.slice(-3)).toEqual([expect.stringMatching(/ 1\/5 cases/), 'generate: interrupted', '']);
  });

  it('in a log: a plain line (no bar, no carriage return) every ⌈total/20⌉ cases, and the last; above() just prints', () => {
    const { writes, stream } = sink(false);
    const bar = new ProgressBar(stream, 100);
    for (let d = 1; d <= 100; d++) bar.update({ done: d, generated: d, elapsedMs: 10 * d });
    expect(writes).toHaveLength(21); // done = 1, 6, 11, … 96, 100
    expect(writes.every((w) => w.endsWith('\n') && !w.includes('\r'))).toBe(true);
    expect(writes.at(-1)).toBe('100/100 cases · 0.01 s/case · done\n');
    bar.above(() => writes.push('seed 1\n'));
    expect(writes.at(-1)).toBe('seed 1\n');
  });
});

describe('--attr, --balance, --guidance (models with attributes)', () => {
  const ATTRS = [
    { name: 'pathology', values: ['benign', 'malignant'] },
    { name: 'scanner', values: ['GE Logiq 5 @10-12MHz', 'U-Systems @10-14MHz'] },
  ];
  it('parses name=value pairs, values with spaces; refuses other text', () => {
    expect(parseAttributes('pathology=malignant, scanner=GE Logiq 5 @10-12MHz')).toEqual({ pathology: 'malignant', scanner: 'GE Logiq 5 @10-12MHz' });
    expect(() => parseAttributes('pathology')).toThrow('--attr must be name=value pairs');
    expect(() => parseAttributes('a=1,a=2')).toThrow('--attr names a twice');
    expect(() => parseAttributes('=1')).toThrow('--attr must be name=value pairs');
  });
  it('the request lists every attribute, any where --attr names none', () => {
    expect(checkAttributes(ATTRS, 'm', { scanner: 'U-Systems @10-14MHz' })).toEqual({ request: { pathology: 'any', scanner: 'U-Systems @10-14MHz' } });
    expect(checkAttributes(ATTRS, 'm')).toEqual({ request: { pathology: 'any', scanner: 'any' } });
  });
  it('--balance: seed K + i asks for value i mod n, whatever the shard', () => {
    const plan = checkAttributes(ATTRS, 'm', undefined, 'pathology');
    expect([100, 101, 102, 103].map((s) => caseRequest(plan, 100, s).pathology)).toEqual(['benign', 'malignant', 'benign', 'malignant']);
    expect(caseRequest(plan, 100, 103)).toEqual({ pathology: 'malignant', scanner: 'any' });
  });
  it('names what is wrong', () => {
    expect(() => checkAttributes([], 'tiny', { a: 'b' })).toThrow('--attr: the model "tiny" takes no attributes (its manifest lists none); leave it out');
    expect(() => checkAttributes([], 'tiny', undefined, 'a')).toThrow('--balance: the model "tiny" takes no attributes');
    expect(() => checkAttributes(ATTRS, 'm', { pathology: 'x' })).toThrow(
      "--attr: pathology=x is not a value of this model's pathology: one of benign, malignant (or any)",
    );
    expect(() => parseGuidance('0x10')).toThrow('--guidance must be a number from 0 to 20');
    expect(parseGuidance('7.5')).toBe(7.5);
  });
});
