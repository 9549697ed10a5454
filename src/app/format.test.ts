import { describe, expect, it } from 'vitest';
import { estimateRemainingMs, formatDuration, pairBaseName, phaseShares } from './format';

describe('format', () => {
  it('formats durations', () => {
    expect(formatDuration(12.4)).toBe('12 ms');
    expect(formatDuration(4200)).toBe('4.2 s');
    expect(formatDuration(42_000)).toBe('42 s');
    expect(formatDuration(65_000)).toBe('1 min 05 s');
    expect(formatDuration(NaN)).toBe('–');
  });
  it('estimates the remaining time from the steps done', () => {
    expect(estimateRemainingMs(0, 10, 0)).toBeNull();
    expect(estimateRemainingMs(2, 10, 400)).toBe(1600);
    expect(estimateRemainingMs(10, 10, 2000)).toBe(0);
  });
  it('names a pair after model, seed and steps', () => {
    expect(pairBaseName('busbra-128', 42, 256)).toBe('busbra-128_seed42_steps256');
    expect(pairBaseName('my model/v2', 1, 4)).toBe('my-model-v2_seed1_steps4');
    expect(pairBaseName('tiny', 7, 4, 'maskToImage')).toBe('tiny_mask2image_seed7_steps4');
    expect(pairBaseName('tiny', 7, 4, 'imageToMask')).toBe('tiny_image2mask_seed7_steps4');
  });

  it('gives each phase of a run its rounded share of the total', () => {
    const shares = phaseShares({ modelMs: 960, readMs: 4, framesMs: 26, otherMs: 10 }, 1000);
    expect(shares.short).toBe('96% in the U-Nets');
    expect(shares.full).toBe('U-Nets (with the DDIM update and B(·)) 96%, reading back 0%, frames to the UI 3%, the rest of the loop 1%');
    expect(phaseShares({ modelMs: 0, readMs: 0, framesMs: 0, otherMs: 0 }, 0).short).toBe('0% in the U-Nets');
  });
});
