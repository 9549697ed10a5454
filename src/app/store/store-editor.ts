// The editor slice: the mode, the mask being drawn (with undo) and the uploaded conditions.
import { imageFromPixels, maskFromPixels } from '../../core/condition';
import type { GenerateMode } from '../../worker/api';
import { lesionCount } from '../editor/brush';
import type { EditorSlice, Slice, StudioState } from './store-state';

/** How many earlier masks Undo keeps. */
const MASK_UNDO_LIMIT = 100;

/** Why Generate cannot start in the current mode (a missing or empty condition), or null. */
export function selectGenerateBlocker(s: Pick<StudioState, 'mode' | 'mask' | 'conditionImage'>): string | null {
  if (s.mode === 'maskToImage' && (s.mask === null || lesionCount(s.mask.mask) === 0)) {
    return 'Mask → image needs a mask: draw a lesion or upload a mask.';
  }
  if (s.mode === 'imageToMask' && s.conditionImage === null) return 'Image → mask needs an image: upload one.';
  return null;
}

/** The worker's mode for the current state (call only when selectGenerateBlocker is null). The
 * arrays cross to the worker as copies (structured clone), so the editor keeps its own. */
export function requestMode(s: Pick<StudioState, 'mode' | 'mask' | 'conditionImage'>, [height, width]: [number, number]): GenerateMode {
  if (s.mode === 'maskToImage' && s.mask) return { kind: 'maskToImage', width, height, mask: s.mask.mask };
  if (s.mode === 'imageToMask' && s.conditionImage) return { kind: 'imageToMask', width, height, image: s.conditionImage.image };
  return { kind: 'pair' };
}

export const createEditorSlice: Slice<EditorSlice> = (session) => (set, get) => ({
  mode: session.options.mode,
  mask: null,
  maskUndo: [],
  conditionImage: null,

  setMode(mode) {
    const { phase } = get();
    if (phase === 'running' || phase === 'cancelling') return;
    set({ mode });
  },

  commitMask(mask, note = null) {
    const { mask: previous, maskUndo } = get();
    set({ mask: { mask, note }, maskUndo: previous ? maskUndo.concat(previous).slice(-MASK_UNDO_LIMIT) : maskUndo });
  },
  undoMask() {
    const { maskUndo } = get();
    const previous = maskUndo[maskUndo.length - 1];
    if (previous) set({ mask: previous, maskUndo: maskUndo.slice(0, -1) });
  },
  clearMask() {
    const { mask } = get();
    if (mask && lesionCount(mask.mask) > 0) get().commitMask(new Uint8Array(mask.mask.length));
  },

  async uploadCondition(kind, file) {
    const model = get().model;
    const what = kind === 'mask' ? 'a mask' : 'an image';
    const fail = (message: string) => set({ error: `Could not use “${file.name}” as ${what}: ${message}` });
    if (!model) {
      fail('the model is not loaded yet.');
      return;
    }
    if (!session.decodeImage) {
      fail('no image decoder is available here.');
      return;
    }
    try {
      const pixels = await session.decodeImage(file);
      const read = pixels.note ? `${pixels.note}; ` : '';
      if (kind === 'mask') {
        const c = maskFromPixels(pixels, model.resolution);
        get().commitMask(c.mask, `“${file.name}”: ${read}${c.note}`);
      } else {
        const c = imageFromPixels(pixels, model.resolution);
        set({ conditionImage: { image: c.image, gray: c.gray, note: `“${file.name}”: ${read}${c.note}` } });
      }
    } catch (e) {
      fail(e instanceof Error ? e.message : String(e));
    }
  },
});
