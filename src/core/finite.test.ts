import { describe, expect, it } from 'vitest';
import { checkFinite, countNonFinite, NonFiniteError } from './finite';

describe('finite', () => {
  it('counts NaN and ±Inf apart, and nothing in finite data (extremes and −0 included)', () => {
    expect(countNonFinite(Float32Array.of(0, -0, 1, -3.4e38, 3.4e38, 1e-45))).toEqual({ nan: 0, inf: 0 });
    expect(countNonFinite(Float32Array.of(NaN, 1, Infinity, -Infinity, NaN))).toEqual({ nan: 2, inf: 2 });
  });

  it('checkFinite names the model, the quantity, the step and t', () => {
    expect(() => checkFinite(Float32Array.of(1, 2), { model: 'mask', quantity: 'ε', index: 0, t: 999 })).not.toThrow();
    let error: unknown;
    try {
      checkFinite(Float32Array.of(1, NaN, Infinity, NaN), { model: 'image', quantity: 'ŷ₀', index: 2, total: 8, t: 511 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NonFiniteError);
    expect((error as NonFiniteError).message).toBe(
      "the image model's ŷ₀ at step 3 of 8 (t = 511) has 2 NaN and 1 infinite of its 4 values. The model file is broken or its weights diverged; the run was stopped.",
    );
    expect((error as NonFiniteError).check.model).toBe('image');
  });
});
