// Keeps the studio worker alive: notices that it died, starts a new one and says so.
//
// A worker can die without a word: it throws at top level (an `error` event on the Worker), it
// closes itself, or the browser ends it (out of memory, a crashed GPU process taking WASM threads
// along). A call in flight to a dead worker never settles, so a page that only awaited would freeze.
// Each worker therefore comes with a `gone` promise (the error event, and a Web Lock the worker holds
// for as long as it lives: the page's request for the same lock is granted the moment it dies;
// worker/client.ts). When the current worker is gone, every call in flight rejects with
// WorkerGoneError, a new worker starts and `onRestart` is told why (the app reopens its model).
// A worker that keeps dying is not restarted forever: after `maxRestarts` within `windowMs`,
// calls reject with the reason and the page must be reloaded.

import { InFlight } from '../core/in-flight';

/** One started worker: its api, how to end it, and when it is gone (with why). */
export interface SupervisedWorker<Api> {
  api: Api;
  /** Resolves with a reason when the worker has died or stopped answering for good. */
  gone: Promise<string>;
  terminate(): void;
}

export class WorkerGoneError extends Error {
  constructor(
    readonly reason: string,
    readonly restarted: boolean,
  ) {
    super(
      restarted
        ? `The studio worker stopped (${reason}); a new one was started.`
        : `The studio worker stopped (${reason}) again and again; reload the page to start afresh.`,
    );
    this.name = 'WorkerGoneError';
  }
}

export interface SupervisorOptions {
  /** Called after a new worker replaced a dead one (not for the first). */
  onRestart?: (reason: string) => void;
  /** Restarts allowed within windowMs before giving up (default 3 in 60 s). */
  maxRestarts?: number;
  windowMs?: number;
  now?: () => number;
}

export class WorkerSupervisor<Api> {
  private current: SupervisedWorker<Api> | null = null;
  /** The calls in flight on the current worker. */
  private readonly inFlight = new InFlight<WorkerGoneError>();
  private restarts: number[] = [];
  private givenUp: string | null = null;
  /** How many workers were started (the first included). */
  started = 0;

  constructor(
    private readonly start: () => SupervisedWorker<Api>,
    private readonly options: SupervisorOptions = {},
  ) {}

  /** The live worker, started on first use. */
  private worker(): SupervisedWorker<Api> {
    if (this.givenUp !== null) throw new WorkerGoneError(this.givenUp, false);
    if (!this.current) {
      const w = this.start();
      this.started++;
      this.current = w;
      void w.gone.then((reason) => this.died(w, reason));
    }
    return this.current;
  }

  /** Runs `fn` on the worker; rejects with WorkerGoneError when the worker dies before it settles. */
  call<T>(fn: (api: Api) => Promise<T>): Promise<T> {
    let w: SupervisedWorker<Api>;
    try {
      w = this.worker();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.inFlight.race(() => fn(w.api));
  }

  private died(w: SupervisedWorker<Api>, reason: string): void {
    if (w !== this.current) return; // one we replaced or ended ourselves
    this.current = null;
    w.terminate();
    const now = (this.options.now ?? Date.now)();
    const windowMs = this.options.windowMs ?? 60_000;
    this.restarts = this.restarts.filter((t) => now - t < windowMs);
    const restart = this.restarts.length < (this.options.maxRestarts ?? 3);
    if (restart) this.restarts.push(now);
    else this.givenUp = reason;
    this.inFlight.lose(new WorkerGoneError(reason, restart));
    if (restart) {
      this.worker(); // a new worker now, so that it is ready when the app reopens its model
      this.options.onRestart?.(reason);
    }
  }

  /** Ends the current worker on purpose (no restart). */
  terminate(): void {
    const w = this.current;
    this.current = null;
    w?.terminate();
  }
}
