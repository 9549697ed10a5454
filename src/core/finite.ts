// NaN / ±Inf coming out of a model: found where it first shows, and the run ended with a message
// naming the model and the step. A broken export, a training run that diverged or a GPU driver fault
// gives such values; left alone they reach the views as black and the saved mask as nothing (every
// comparison with NaN is false), so the user would keep a wrong pair without knowing.
//
// Checked: on the CPU path every ε the U-Nets return (core's CPU executor); on every path every
// x̂₀ / ŷ₀ the loop reads back (the step graphs keep ε on the GPU; the loop reads x̂₀ and ŷ₀ on the
// last step at least). A scan is one pass over H·W floats, nothing next to a U-Net forward.

/** The U-Nets, and a latent model's autoencoder (contracts.md §6a). */
export type ModelName = 'mask' | 'image' | 'encoder' | 'decoder';

/** What was checked: which model's output, at which step. */
export interface FiniteCheck {
  model: ModelName;
  /** 'ε' (the U-Net's output), 'x̂₀' or 'ŷ₀'. */
  quantity: string;
  /** 0-based step index. */
  index: number;
  /** Steps in the run, when known. */
  total?: number;
  t: number;
}

/** A model gave NaN or ±Inf: the run cannot go on. */
export class NonFiniteError extends Error {
  constructor(
    readonly check: FiniteCheck,
    readonly nan: number,
    readonly inf: number,
    readonly count: number,
  ) {
    const { model, quantity, index, total, t } = check;
    const what = [nan > 0 ? `${nan} NaN` : '', inf > 0 ? `${inf} infinite` : ''].filter(Boolean).join(' and ');
    super(
      `the ${model} model's ${quantity} at step ${index + 1}${total ? ` of ${total}` : ''} (t = ${t}) has ${what} of its ${count} values. ` +
        'The model file is broken or its weights diverged; the run was stopped.',
    );
    this.name = 'NonFiniteError';
  }
}

/** Counts of NaN and ±Inf in `values` (0, 0 when all are finite). */
export function countNonFinite(values: ArrayLike<number>): { nan: number; inf: number } {
  let nan = 0;
  let inf = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v - v !== 0) {
      // NaN − NaN and ∞ − ∞ are NaN; every finite v gives 0
      if (Number.isNaN(v)) nan++;
      else inf++;
    }
  }
  return { nan, inf };
}

/** Throws NonFiniteError when `values` holds a NaN or ±Inf. */
export function checkFinite(values: ArrayLike<number>, check: FiniteCheck): void {
  const { nan, inf } = countNonFinite(values);
  if (nan > 0 || inf > 0) throw new NonFiniteError(check, nan, inf, values.length);
}
