import { describe, expect, it } from 'vitest';
import { chooseSteps, evenlySpacedSteps, everyKthStep, parseStepList } from './step-choice';

describe('contact sheet step choice', () => {
  it('spaces 8 of 256 steps evenly, first and last included', () => {
    // round(i·255/7): 0, 36.43, 72.86, 109.29, 145.71, 182.14, 218.57, 255
    expect(evenlySpacedSteps(256, 8)).toEqual([0, 36, 73, 109, 146, 182, 219, 255]);
    expect(evenlySpacedSteps(4, 8)).toEqual([0, 1, 2, 3]);
    expect(evenlySpacedSteps(10, 1)).toEqual([9]);
    expect(evenlySpacedSteps(10, 2)).toEqual([0, 9]);
  });
  it('takes every k-th step and ends at the last', () => {
    expect(everyKthStep(10, 4)).toEqual([0, 4, 8, 9]);
    expect(everyKthStep(9, 4)).toEqual([0, 4, 8]);
    expect(everyKthStep(3, 1)).toEqual([0, 1, 2]);
  });
  it('parses lists and ranges of 1-based step numbers', () => {
    expect(parseStepList('1, 4 8', 8)).toEqual([0, 3, 7]);
    expect(parseStepList('5-7,1;6', 8)).toEqual([0, 4, 5, 6]);
    expect(parseStepList('9', 8)).toBe('Step 9 is outside 1 … 8.');
    expect(parseStepList('0', 8)).toBe('Step 0 is outside 1 … 8.');
    expect(parseStepList('a', 8)).toBe('"a" is not a step number or a range like 2-5.');
    expect(parseStepList(' ', 8)).toMatch(/List the steps/);
  });
  it('names a bad choice', () => {
    expect(chooseSteps({ kind: 'every', k: 0 }, 8)).toMatch(/k must be/);
    expect(chooseSteps({ kind: 'even', count: 2.5 }, 8)).toMatch(/whole number/);
    expect(chooseSteps({ kind: 'even', count: 8 }, 0)).toMatch(/generate first/);
    expect(chooseSteps({ kind: 'list', text: '2-3' }, 8)).toEqual([1, 2]);
  });
});
