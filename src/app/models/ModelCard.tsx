// The model panel: the current model's card, the bundled and the cached custom models, opening a
// custom model (file picker, folder picker, or files dropped anywhere on the page), the model
// cache's size and Clear cache. The files are only gathered here; the worker validates them.
import bundledModels from 'virtual:bundled-models';
import { useCallback, useEffect, useRef, useState } from 'react';
import { progressFraction } from '../../core/load-progress';
import { browserCacheStorage, type CachedModel, clearModelCaches, listModelCaches, modelCacheName } from '../../core/model-cache';
import { modelUrl, withModelParam } from '../config';
import { useStudio } from '../page-studio';
import { dragHasFiles, droppedFiles, type FileLike, gatherModelFiles } from './model-files';
import { cacheUsageText, formatBytes, loadProgressText, modelCardRows, modelCardText, persistentModelCache } from './model-panel';

interface CacheState {
  models: CachedModel[];
  /** navigator.storage.estimate(): what this origin uses and may use; null where unknown. */
  usage: number | null;
  quota: number | null;
  /** Whether the browser keeps the cache under storage pressure; null where unknown. */
  persistent: boolean | null;
  available: boolean;
}

/** `justDownloaded`: a model was just stored in the cache, so ask the browser to keep it. */
async function readCacheState(justDownloaded: boolean): Promise<CacheState> {
  const storage = browserCacheStorage();
  const models = await listModelCaches(storage).catch(() => []);
  let usage: number | null = null;
  let quota: number | null = null;
  try {
    const estimate = await navigator.storage?.estimate?.();
    usage = estimate?.usage ?? null;
    quota = estimate?.quota ?? null;
  } catch {
    // no estimate: the panel shows the cache's own size only
  }
  const persistent = storage && models.length > 0 ? await persistentModelCache(navigator.storage, justDownloaded) : null;
  return { models, usage, quota, persistent, available: storage !== null };
}

/** The model panel (kept under its old name so the layout that places it is unchanged). */
export function ModelCard() {
  const model = useStudio((s) => s.model);
  const phase = useStudio((s) => s.phase);
  const progress = useStudio((s) => s.loadProgress);
  const openModel = useStudio((s) => s.openModel);
  const showError = useStudio((s) => s.showError);
  const cancel = useStudio((s) => s.cancel);
  const [cache, setCache] = useState<CacheState | null>(null);
  const [dragging, setDragging] = useState(false);
  const filesInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);

  const refresh = useCallback((justDownloaded = false) => {
    void readCacheState(justDownloaded).then(setCache);
  }, []);
  // After every load (a model may have been cached) and on mount; until the listing is read
  // again, the loaded model's own report says whether it is cached.
  useEffect(() => {
    setCache(null);
    refresh(model?.source?.cached === true && !model.source.fromCache);
  }, [refresh, model]);

  const openFiles = useCallback(
    async (files: readonly FileLike[]) => {
      let gathered: Record<string, ArrayBuffer>;
      try {
        gathered = await gatherModelFiles(files);
      } catch (e) {
        showError(`Could not open the files you chose: ${e instanceof Error ? e.message : String(e)}`);
        return;
      }
      await openModel({ files: gathered }, 'the files you chose');
    },
    [openModel, showError],
  );

  // Model files dropped anywhere on the page open as a custom model.
  useEffect(() => {
    const over = (e: DragEvent) => {
      if (!dragHasFiles(e.dataTransfer)) return;
      e.preventDefault();
      setDragging(true);
    };
    const leave = (e: DragEvent) => {
      if (e.relatedTarget === null) setDragging(false);
    };
    const drop = (e: DragEvent) => {
      if (!dragHasFiles(e.dataTransfer) || !e.dataTransfer) return;
      e.preventDefault();
      setDragging(false);
      void droppedFiles(e.dataTransfer).then(openFiles, (err: unknown) => showError(`Could not read the dropped files: ${String(err)}`));
    };
    window.addEventListener('dragover', over);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragover', over);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  }, [openFiles, showError]);

  const onPicked = (input: HTMLInputElement | null) => {
    const files = input?.files ? [...input.files] : [];
    if (input) input.value = ''; // choosing the same files again fires change again
    if (files.length) void openFiles(files);
  };

  const openBundled = async (folder: string) => {
    if (await openModel({ modelUrl: modelUrl(folder) }, `model "${folder}"`)) {
      window.history.replaceState(null, '', `${window.location.pathname}${withModelParam(window.location.search, folder)}${window.location.hash}`);
    }
  };

  const clearCache = async () => {
    await clearModelCaches(browserCacheStorage()).catch((e: unknown) => showError(`Could not clear the cache: ${String(e)}`));
    refresh();
  };

  const busy = phase === 'loading' || phase === 'running' || phase === 'cancelling';
  const cachedNames = new Set(cache?.models.map((m) => m.cacheName) ?? []);
  const source = model?.source;
  const currentCacheName = source ? modelCacheName(source.kind, source.id) : null;
  const currentCached = cache === null ? source?.cached === true : currentCacheName !== null && cachedNames.has(currentCacheName);
  const custom = cache?.models.filter((m) => m.kind === 'custom') ?? [];
  const fraction = progress ? progressFraction(progress) : null;
  const cardText = model ? modelCardText(model.documents) : null;

  return (
    <section className={`model-panel${dragging ? ' dropping' : ''}`} aria-label="Model panel">
      <details className="card">
        <summary>
          {model ? (
            <>
              Model <strong>{model.name}</strong> · {model.resolution[1]}×{model.resolution[0]} · {source?.kind === 'custom' ? 'custom' : 'bundled'}
              {source ? <span className="model-cache-state"> · {source.fromCache ? 'loaded from cache' : currentCached ? 'cached' : 'not cached'}</span> : null}
            </>
          ) : (
            'Model'
          )}
        </summary>
        <div className="model-panel-body">
          {model ? (
            <dl aria-label="Model card">
              {modelCardRows(model).map(([k, v]) => (
                <div key={k}>
                  <dt>{k}</dt>
                  <dd>{v}</dd>
                </div>
              ))}
            </dl>
          ) : null}
          {cardText !== null ? (
            <details className="model-card-text">
              <summary>Model card (README.md: intended use, limitations, training data, evaluation, citations)</summary>
              <section aria-label="Model card text">
                <pre>{cardText}</pre>
              </section>
            </details>
          ) : null}

          <h3 id="bundled-models">Bundled models</h3>
          <ul className="model-list" aria-labelledby="bundled-models">
            {bundledModels.map((b) => {
              const isCurrent = source?.kind === 'bundled' && source.id === modelUrl(b.folder);
              const cached = cachedNames.has(modelCacheName('bundled', modelUrl(b.folder)));
              return (
                <li key={b.folder}>
                  <span>
                    <strong>{b.name}</strong> <code>{b.folder}</code>
                    {b.resolution ? ` · ${b.resolution[1]}×${b.resolution[0]}` : ''}
                    {isCurrent ? ' · open' : ''}
                    {cached ? ' · cached' : ''}
                  </span>
                  <button
                    type="button"
                    className="ghost"
                    disabled={busy || isCurrent}
                    onClick={() => void openBundled(b.folder)}
                    aria-label={`Open bundled model ${b.folder}`}
                  >
                    Open
                  </button>
                </li>
              );
            })}
          </ul>

          <h3 id="custom-models">Custom models (in the cache)</h3>
          {custom.length === 0 ? (
            <p className="muted">None yet: open a model's files and it is kept here.</p>
          ) : (
            <ul className="model-list" aria-labelledby="custom-models">
              {custom.map((m) => {
                const isCurrent = source?.kind === 'custom' && source.id === m.id;
                const label = m.name ?? m.id;
                return (
                  <li key={m.cacheName}>
                    <span>
                      <strong>{label}</strong>
                      {m.resolution ? ` · ${m.resolution[1]}×${m.resolution[0]}` : ''} · {formatBytes(m.bytes)}
                      {isCurrent ? ' · open' : ''}
                    </span>
                    <button
                      type="button"
                      className="ghost"
                      disabled={busy || isCurrent}
                      onClick={() => void openModel({ cachedModelId: m.id }, `the cached model ${label}`)}
                      aria-label={`Open custom model ${label}`}
                    >
                      Open
                    </button>
                  </li>
                );
              })}
            </ul>
          )}

          <h3>Cache</h3>
          <p className="model-cache-usage" role="note" aria-label="Cache usage">
            {cache === null
              ? 'Reading the cache…'
              : !cache.available
                ? 'Cache Storage is not available here: models load without the cache.'
                : cacheUsageText(cache)}
          </p>
          {source?.cacheNote ? (
            <p className="model-cache-note" role="note" aria-label="Cache note">
              {source.cacheNote}
            </p>
          ) : null}
          <button type="button" className="ghost" onClick={() => void clearCache()} disabled={!cache?.available}>
            Clear cache
          </button>
        </div>
      </details>

      <div className="model-open">
        <button
          type="button"
          className="ghost"
          disabled={busy}
          onClick={() => filesInput.current?.click()}
          title="The model's manifest.json with its ONNX and weights files; or drop them on the page"
        >
          Open model…
        </button>
        <button type="button" className="ghost" disabled={busy} onClick={() => folderInput.current?.click()}>
          Open folder…
        </button>
        <input
          ref={filesInput}
          type="file"
          multiple
          accept=".json,.onnx,.weights,application/json"
          hidden
          aria-label="Model files"
          onChange={(e) => onPicked(e.currentTarget)}
        />
        <input
          ref={folderInput}
          type="file"
          hidden
          aria-label="Model folder"
          onChange={(e) => onPicked(e.currentTarget)}
          {...{ webkitdirectory: '', directory: '' }}
        />
        {phase === 'loading' ? (
          <span className="model-progress">
            <progress aria-label="Model download" max={1} value={fraction ?? undefined} />
            <span>{progress ? loadProgressText(progress) : 'Opening the model…'}</span>
            <button type="button" className="ghost" onClick={cancel}>
              Cancel download
            </button>
          </span>
        ) : null}
      </div>
      {dragging ? (
        <div className="drop-hint" aria-hidden="true">
          Drop the model's manifest.json with its ONNX and weights files (or its folder) to open it
        </div>
      ) : null}
    </section>
  );
}
