// The model slice: opening a model (bundled, from files, from the cache), cancelling its download,
// and reopening it in a new worker after the old one died.

import { modelUrl } from '../config';
import { keptAttributes } from '../controls/attributes';
import type { ModelRequest, ModelSlice, Slice, SliceCalls } from './store-state';

export const createModelSlice: Slice<ModelSlice & Pick<SliceCalls, 'cancelDownload'>> = (session) => (set, get) => {
  const { worker, options } = session;
  // The model is loaded once per page (React's StrictMode runs mount effects twice in dev).
  let loading: Promise<void> | null = null;
  // One model load at a time (the worker refuses a second); phase alone cannot say, as the
  // store starts in 'loading' before the first load is asked for.
  let modelLoading = false;
  // What reopens the current model in a new worker: its request (a custom model from files: its
  // cache id, as the files went to the dead worker) and how to name it; null where it cannot.
  let current: { request: ModelRequest; label: string } | null = null;

  /** `reopening`: the same model in a new worker; the run and the batch on screen stay. */
  const openModel = async (request: ModelRequest, label: string, reopening = false): Promise<boolean> => {
    const { phase, model: previous } = get();
    if (!reopening && (phase === 'running' || phase === 'cancelling')) {
      set({ error: `Cancel the running generation before opening ${label}.` });
      return false;
    }
    if (modelLoading) {
      set({ error: `Cannot open ${label} now: a model is already loading.` });
      return false;
    }
    modelLoading = true;
    set({ phase: 'loading', error: null, loadProgress: null });
    try {
      const model = await worker.load({ ...request, backend: options.backend, threads: options.threads }, (progress) => {
        if (modelLoading) set({ loadProgress: progress });
      });
      current = request.files
        ? model.source?.cached
          ? { request: { cachedModelId: model.source.id }, label: `model ${model.name} (from the cache)` }
          : null
        : { request, label };
      if (reopening) {
        set({ phase: 'ready', model, loadProgress: null });
        return true;
      }
      const [height, width] = model.resolution;
      // The editor's mask and an uploaded image are at the model's size: kept for a model of the
      // same size, started afresh otherwise.
      const sameSize = previous !== null && previous.resolution[0] === height && previous.resolution[1] === width;
      // the attributes asked for (the URL's, or the previous model's) that this model has; the URL's others are said
      const { kept, dropped } = keptAttributes(model.attributes, get().attributes);
      const unknown =
        previous === null && dropped.length > 0
          ? `The address asks for ${dropped.join(', ')}, which model ${model.name} does not have (${
              model.attributes.length ? model.attributes.map((a) => a.name).join(', ') : 'it takes no attributes'
            }): any is used.`
          : null;
      const hasAttributes = model.attributes.length > 0;
      set((s) => ({
        phase: 'ready',
        model,
        loadProgress: null,
        mask: sameSize && s.mask ? s.mask : { mask: new Uint8Array(height * width), note: null },
        maskUndo: sameSize ? s.maskUndo : [],
        conditionImage: sameSize ? s.conditionImage : null,
        // The first model keeps steps and clip preset by the URL; another model starts at its own
        // defaults and without the previous model's run (its size may differ).
        attributes: kept,
        ...(previous === null
          ? {
              stepsText: s.stepsText === '' ? String(model.defaultSteps) : s.stepsText,
              clip: s.clip ?? model.defaultClip,
              guidanceText: !hasAttributes ? '' : s.guidanceText !== '' ? s.guidanceText : String(model.defaultGuidance),
              notice: unknown,
            }
          : {
              guidanceText: hasAttributes ? String(model.defaultGuidance) : '',
              decoded: {},
              stepsText: String(model.defaultSteps),
              clip: model.defaultClip,
              frames: [],
              result: null,
              cursor: null,
              playing: false,
              runSteps: 0,
              runSeed: null,
              notice: `Opened model ${model.name}.`,
              // the batch's pairs belong to the previous model (its export names that model's files)
              batch: { ...s.batch, pairs: [], request: null, note: null, opened: null },
            }),
      }));
      return true;
    } catch (e) {
      const err = worker.toError(e);
      if (err.kind === 'cancelled') {
        set(
          previous
            ? { phase: 'ready', loadProgress: null, notice: `Stopped opening ${label}; the studio still uses model ${previous.name}.` }
            : {
                phase: 'failed',
                loadProgress: null,
                error: `Stopped opening ${label}. Open a model from the model panel, or reload the page to download it again.`,
              },
        );
        return false;
      }
      const still = previous ? ` — the studio still uses model ${previous.name}.` : '';
      set({ phase: previous ? 'ready' : 'failed', loadProgress: null, error: `Could not open ${label}: ${err.message}${still}` });
      return false;
    } finally {
      modelLoading = false;
    }
  };

  const loadModel = async (): Promise<void> => {
    await openModel({ modelUrl: modelUrl(options.model) }, `model "${options.model}"`);
  };

  return {
    model: null,
    loadProgress: null,

    load() {
      loading ??= loadModel();
      return loading;
    },
    openModel: (request, label) => openModel(request, label),

    cancelDownload() {
      if (get().phase !== 'loading' || !modelLoading) return false;
      // the worker aborts the download; openModel's failure path says what the studio holds now
      Promise.resolve(worker.cancel()).catch((e: unknown) => set({ error: `Cancel failed: ${worker.toError(e).message}` }));
      return true;
    },

    async workerRestarted(reason) {
      session.newRun(); // anything the dead worker still had in flight is dropped
      modelLoading = false; // its load, if one was going, ended with it
      const stopped = `The studio worker stopped (${reason}); a new one was started`;
      const name = get().model?.name;
      set((s) => {
        const p = s.batch.progress;
        const note = p ? `Stopped after ${s.batch.pairs.length} of ${p.count} pairs: the worker stopped; the finished pairs are kept.` : s.batch.note;
        return { phase: 'loading', loadProgress: null, batch: { ...s.batch, progress: null, note } };
      });
      const kept = current;
      const reopen = kept ?? { request: { modelUrl: modelUrl(options.model) }, label: `model "${options.model}"` };
      const ok = await openModel(reopen.request, reopen.label, kept !== null);
      if (!ok) return; // openModel said why
      const which = kept === null && name ? ` Model ${name} was not kept in the cache, so the default model was opened.` : '';
      set({ error: `${stopped} and the model was reopened. What was running stopped; the steps and pairs shown are kept.${which}` });
    },
  };
};
