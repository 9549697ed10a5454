// The CLI's progress on stderr: a redrawn bar on a terminal, a plain line every few cases otherwise
// (logs of batch jobs). Only cases generated in this run count toward the rate and the ETA; cases
// skipped by --resume are shown as done.

/**
 * A line as the terminal should show it: control characters (ESC sequences, carriage returns, bells,
 * C1 controls) and the bidirectional overrides that reorder text shown as escapes (`\x1b`,
 * `\u202e`), so a manifest's name or a file name printed in a line cannot rewrite the terminal.
 */
export function printable(line: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
  return line.replace(/[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export interface ProgressState {
  done: number; // cases finished, including skipped ones
  total: number;
  generated: number; // cases generated in this run
  elapsedMs: number; // time spent generating them
}

/** "[#####.....] 12/40 cases · 1.23 s/case · ETA 34s" (width of the bar in characters; 0: no bar). */
export function formatProgress(p: ProgressState, width = 24): string {
  const frac = p.total > 0 ? p.done / p.total : 1;
  const filled = Math.round(frac * width);
  const bar = width > 0 ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]` : '';
  const perCase = p.generated > 0 ? p.elapsedMs / p.generated : NaN;
  const rate = Number.isFinite(perCase) ? ` · ${(perCase / 1000).toFixed(2)} s/case` : '';
  const eta = p.done >= p.total ? 'done' : `ETA ${formatDuration(perCase * (p.total - p.done))}`;
  return `${bar}${bar && ' '}${p.done}/${p.total} cases${rate} · ${eta}`;
}

export class ProgressBar {
  private state: ProgressState;
  private lastLine = -1;
  /** On a terminal: the bar is on the last line, with no newline after it. */
  private drawn = false;
  private readonly every: number;

  constructor(
    private readonly stream: { write(s: string): unknown; isTTY?: boolean },
    total: number,
  ) {
    this.state = { done: 0, total, generated: 0, elapsedMs: 0 };
    this.every = Math.max(1, Math.ceil(total / 20)); // non-TTY: about 20 lines per run
  }

  update(patch: Partial<ProgressState>): void {
    this.state = { ...this.state, ...patch };
    if (this.stream.isTTY) {
      this.draw();
      if (this.state.done >= this.state.total) {
        this.stream.write('\n');
        this.drawn = false;
      }
    } else if (this.state.done >= this.state.total || this.state.done - this.lastLine >= this.every || this.lastLine < 0) {
      // a log gets plain lines, no bar (no carriage returns either)
      this.lastLine = this.state.done;
      this.stream.write(`${formatProgress(this.state, 0)}\n`);
    }
  }

  /**
   * Runs `print` (which writes whole lines to the terminal: a case's line on stdout, a warning) with
   * the bar's line cleared first and the bar redrawn after, so a line never runs into the bar
   * (`ETA 0sseed 1: …`) and the bar stays the last line.
   */
  above(print: () => void): void {
    const drawn = this.drawn;
    if (drawn) this.stream.write('\r\x1b[2K');
    print();
    if (drawn) this.draw();
  }

  /** Ends the bar's line where a run stops early (a signal, an error), so what follows starts on a line of its own. */
  end(): void {
    if (!this.drawn) return;
    this.stream.write('\n');
    this.drawn = false;
  }

  private draw(): void {
    this.stream.write(`\r\x1b[2K${formatProgress(this.state)}`);
    this.drawn = true;
  }

  get current(): ProgressState {
    return this.state;
  }
}
