import { describe, expect, it } from 'vitest';
import type { PixelImage } from '../../core/condition';
import { selectGenerateBlocker } from './store-editor';
import { H, setup, W } from './store-test-kit';

describe('studio store: modes and conditions', () => {
  /** A 4×4 gray file: the left half white (a lesion, or a bright image half). */
  const halfWhite: PixelImage = { width: 4, height: 4, channels: 1, bitDepth: 8, data: Uint8Array.from({ length: 16 }, (_, i) => (i % 4 < 2 ? 255 : 0)) };
  const decoder = async (file: Blob) => {
    if ((file as File).name === 'notes.txt') throw new Error('it is not an image this browser can decode (type text/plain).');
    if ((file as File).name === 'anim.png') return { ...halfWhite, note: 'animated PNG (2 frames): the first frame is used' };
    return halfWhite;
  };
  const file = (name: string) => Object.assign(new Blob(['x']), { name });

  it('reads the mode from the URL and switches it, except while a run goes', async () => {
    const { store, step } = setup('?mode=image2mask');
    expect(store.getState().mode).toBe('imageToMask');
    await store.getState().load();
    store.getState().setMode('pair');
    expect(store.getState().mode).toBe('pair');
    const run = store.getState().generate();
    store.getState().setMode('maskToImage');
    expect(store.getState().mode).toBe('pair');
    for (let i = 0; i < 4; i++) await step();
    await run;
  });

  it('mask → image: Generate is blocked until the mask has a lesion; the drawn mask is sent; undo and clear', async () => {
    const { store, step, calls } = setup('?seed=5&mode=mask2image');
    await store.getState().load();
    expect(store.getState().mask?.mask).toEqual(new Uint8Array(H * W));
    expect(selectGenerateBlocker(store.getState())).toBe('Mask → image needs a mask: draw a lesion or upload a mask.');
    await store.getState().generate();
    expect(calls).toHaveLength(0);
    expect(store.getState().error).toBe('Mask → image needs a mask: draw a lesion or upload a mask.');
    store.getState().dismissError();

    store.getState().commitMask(Uint8Array.of(1, 0, 0, 0));
    store.getState().commitMask(Uint8Array.of(1, 1, 0, 0));
    expect(selectGenerateBlocker(store.getState())).toBeNull();
    const run = store.getState().generate();
    for (let i = 0; i < 4; i++) await step();
    await run;
    expect(calls[0]).toEqual({
      seed: 5,
      steps: 3,
      clip: 'none',
      previews: true,
      mode: { kind: 'maskToImage', width: W, height: H, mask: Uint8Array.of(1, 1, 0, 0) },
    });
    expect(store.getState().result?.mode).toBe('maskToImage');

    store.getState().undoMask();
    expect(Array.from(store.getState().mask!.mask)).toEqual([1, 0, 0, 0]);
    store.getState().clearMask();
    expect(Array.from(store.getState().mask!.mask)).toEqual([0, 0, 0, 0]);
    store.getState().undoMask();
    expect(Array.from(store.getState().mask!.mask)).toEqual([1, 0, 0, 0]);
    store.getState().undoMask();
    store.getState().undoMask(); // nothing left to undo: stays at the first (empty) mask
    expect(Array.from(store.getState().mask!.mask)).toEqual([0, 0, 0, 0]);
  });

  it('an uploaded mask of another size is resized to the model, with the note; a bad file names itself and changes nothing', async () => {
    const { store } = setup('?mode=mask2image', decoder);
    await store.getState().load();
    await store.getState().uploadCondition('mask', file('lesion.png'));
    expect(Array.from(store.getState().mask!.mask)).toEqual([1, 0, 1, 0]);
    expect(store.getState().mask!.note).toBe(
      '“lesion.png”: resized 4×4 → 2×2, lesion = gray level 255, area-averaged, lesion where ≥ 50% covered; 50.0% lesion',
    );
    await store.getState().uploadCondition('mask', file('notes.txt'));
    expect(store.getState().error).toBe('Could not use “notes.txt” as a mask: it is not an image this browser can decode (type text/plain).');
    expect(Array.from(store.getState().mask!.mask)).toEqual([1, 0, 1, 0]);
    store.getState().undoMask(); // the upload is one undoable change
    expect(Array.from(store.getState().mask!.mask)).toEqual([0, 0, 0, 0]);
    // what the decoder says of the file comes first in the note
    await store.getState().uploadCondition('mask', file('anim.png'));
    expect(store.getState().mask!.note).toBe(
      '“anim.png”: animated PNG (2 frames): the first frame is used; resized 4×4 → 2×2, lesion = gray level 255, area-averaged, lesion where ≥ 50% covered; 50.0% lesion',
    );
  });

  it('image → mask: blocked without an image; an uploaded image is sent in model units', async () => {
    const { store, step, calls } = setup('?seed=5&mode=image2mask', decoder);
    await store.getState().load();
    expect(selectGenerateBlocker(store.getState())).toBe('Image → mask needs an image: upload one.');
    await store.getState().uploadCondition('image', file('scan.png'));
    expect(store.getState().conditionImage?.note).toBe('“scan.png”: resized 4×4 → 2×2, gray, scaled to [−1, 1]');
    // Pillow's antialiased bilinear 4 → 2 (computed with PIL: [[219, 36], [219, 36]])
    expect(Array.from(store.getState().conditionImage!.gray)).toEqual([219, 36, 219, 36]);
    const run = store.getState().generate();
    for (let i = 0; i < 4; i++) await step();
    await run;
    expect(calls[0]?.mode).toEqual({
      kind: 'imageToMask',
      width: W,
      height: H,
      image: Float32Array.of(0.7176470756530762, -0.7176470756530762, 0.7176470756530762, -0.7176470756530762),
    });
  });
});
