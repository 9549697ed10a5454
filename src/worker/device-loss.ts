// A WebGPU model's device can be lost for good (a driver reset, a crashed GPU process). When the
// model the studio holds loses it: the running generation ends (its model call may wait on the
// dead device forever), the model is reopened on WASM, and the next answer tells the user once.

import { errorMessage } from '../core/errors';
import { InFlight } from '../core/in-flight';
import { CancelledError } from '../core/sampler';
import type { ModelInfo, StudioError } from './api';
import { studioError } from './errors';

/** What the watch needs of a model (the studio's LoadedModel). */
export interface DeviceModel<M> {
  manifest: { name: string };
  /** WebGPU: resolves with the reason when the GPU device is lost. */
  lost?: Promise<string>;
  /** Opens the same model on WASM. */
  reopenOnWasm?: () => Promise<M>;
  release(): Promise<void>;
}

/** The studio the watch acts on. */
export interface DeviceLossHost<M> {
  /** The model held now. */
  current(): M | null;
  replace(model: M | null): void;
  /** Ends the running generation within a step, if one runs. */
  stopRun(): void;
  describe(model: M): ModelInfo;
}

/** The GPU device went away while a run was waiting on it. */
export class DeviceLostError extends Error {
  constructor(readonly reason: string) {
    super(`the GPU device was lost (${reason})`);
    this.name = 'DeviceLostError';
  }
}

export class DeviceLossWatch<M extends DeviceModel<M>> {
  /** The model being reopened on WASM, and what the user has not been told yet. */
  private recovering: Promise<void> | null = null;
  private untold: { reason: string; outcome: string } | null = null;
  /** Models whose device was lost; and the steps waiting on the model now, to end when it is. */
  private readonly lostModels = new WeakSet<M>();
  private readonly waiting = new InFlight<DeviceLostError>();

  constructor(private readonly host: DeviceLossHost<M>) {}

  /** The studio holds `model` now: its device is watched; a loss of the one before no longer needs telling. */
  watch(model: M): void {
    this.untold = null;
    if (!model.lost) return;
    void model.lost.then((reason) => this.onLost(model, reason));
  }

  /** A loss is being handled or not told yet: a run that stopped was stopped by it, not by the user. */
  get lossPending(): boolean {
    return this.recovering !== null || this.untold !== null;
  }

  /** `step`, or a DeviceLostError as soon as the device is lost (the step itself may never settle). */
  unlessLost<T>(step: () => Promise<T>): Promise<T> {
    return this.waiting.race(step);
  }

  /** Before a run: waits for a reopening after a lost device, then rejects once with what happened if the user was not told yet. */
  async afterRecovery(): Promise<void> {
    if (this.recovering) await this.recovering;
    const told = this.lostError('');
    if (told) throw told;
  }

  /**
   * A run's failure as the lost-device message when the device was lost (or was going: a run that
   * failed because of it is followed by its loss within moments); null when it was not.
   */
  async runError(e: unknown, model: M): Promise<StudioError | null> {
    if (!model.lost || (e instanceof CancelledError && !this.lossPending)) return null;
    if (!(e instanceof DeviceLostError) && !this.lostModels.has(model)) await new Promise((r) => setTimeout(r, 250));
    if (!this.lostModels.has(model)) return null;
    if (this.recovering) await this.recovering;
    return this.lostError(' during the run');
  }

  private onLost(model: M, reason: string): void {
    this.lostModels.add(model);
    if (this.host.current() !== model) return; // replaced meanwhile: nothing runs on it
    console.warn(`[engine] ${model.manifest.name}: the GPU device was lost (${reason}); reopening on WASM`);
    this.host.stopRun();
    this.waiting.lose(new DeviceLostError(reason));
    this.recovering = (async () => {
      let outcome: string;
      try {
        if (!model.reopenOnWasm) throw new Error('this model cannot be reopened on WASM');
        this.host.replace(await model.reopenOnWasm());
        outcome = 'the model was reopened on WASM';
      } catch (e) {
        this.host.replace(null);
        outcome = `reopening the model on WASM failed (${errorMessage(e)}): reload the page`;
      }
      await model.release().catch(() => undefined);
      this.untold = { reason, outcome };
      this.recovering = null;
    })();
  }

  /** The error that tells the user about a lost device (once), with the model held now. */
  private lostError(during: string): StudioError | null {
    const lost = this.untold;
    if (!lost) return null;
    this.untold = null;
    const model = this.host.current();
    const again = model ? ' Press Generate to run again.' : '';
    const error: StudioError = studioError('backend', `The GPU device was lost${during} (${lost.reason}); ${lost.outcome}.${again}`);
    return model ? { ...error, model: this.host.describe(model) } : error;
  }
}
