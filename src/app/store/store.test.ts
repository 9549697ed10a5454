// Each slice has its tests (store-model, store-run, store-batch, store-editor .test.ts); here: the
// combined store components see.
import { describe, expect, it } from 'vitest';
import { setup } from './store-test-kit';

describe('studio store', () => {
  it('combines the slices into the one state components use, each part with its starting value', () => {
    const { store } = setup('?seed=5&steps=7&mode=mask2image');
    const s = store.getState();
    const state = [
      'options',
      'phase',
      'model',
      'seedText',
      'stepsText',
      'clip',
      'frames',
      'runSteps',
      'runSeed',
      'cursor',
      'playing',
      'result',
      'error',
      'notice',
      'stretch',
      'mode',
      'mask',
      'maskUndo',
      'conditionImage',
      'loadProgress',
      'batch',
    ];
    const actions = [
      'load',
      'openModel',
      'generate',
      'cancel',
      'generateBatch',
      'openBatchPair',
      'setBatch',
      'setSeedText',
      'setStepsText',
      'setClip',
      'randomizeSeed',
      'setCursor',
      'tick',
      'togglePlay',
      'setStretch',
      'setMode',
      'commitMask',
      'undoMask',
      'clearMask',
      'uploadCondition',
      'workerRestarted',
      'showError',
      'dismissError',
    ];
    for (const key of state) expect(s, key).toHaveProperty(key);
    for (const key of actions) expect(typeof (s as unknown as Record<string, unknown>)[key], key).toBe('function');
    expect(s).toMatchObject({
      phase: 'loading',
      model: null,
      seedText: '5',
      stepsText: '7',
      frames: [],
      cursor: null,
      playing: false,
      error: null,
      notice: null,
      stretch: true,
      mode: 'maskToImage',
      mask: null,
      loadProgress: null,
    });
    expect(s.batch).toMatchObject({ startText: '0', sizeText: '16', pairs: [], progress: null });
  });
});
