import { describe, expect, it } from 'vitest';
import { isStudioError, studioError, toStudioError } from './errors';

describe('StudioError helpers', () => {
  it('keeps typed values and wraps everything else as internal', () => {
    expect(toStudioError(studioError('busy', 'a generation is already running'))).toEqual({ kind: 'busy', message: 'a generation is already running' });
    expect(toStudioError(new Error('boom'))).toEqual({ kind: 'internal', message: 'boom' });
    expect(toStudioError('x')).toEqual({ kind: 'internal', message: 'x' });
    expect(toStudioError(undefined).kind).toBe('internal');
    expect(isStudioError({ kind: 'nope', message: 'm' })).toBe(false);
  });
  it('survives structured cloning (how comlink carries a thrown value)', () => {
    const e = structuredClone(studioError('cancelled', 'generation cancelled'));
    expect(isStudioError(e)).toBe(true);
  });
});
