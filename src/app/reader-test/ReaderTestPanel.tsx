import { useEffect, useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { MAX_SEED } from '../../core/limits';
import { dragHasFiles } from '../models/model-files';
import { useStudio } from '../page-studio';
import { Blocker, NumberField, StoreForm, TextField } from '../shell/Form';
import { droppedFolderFiles, pickedFolderFiles } from './folder';
import { ReaderTestDialog } from './ReaderTestDialog';
import { maxPairsFor } from './session';
import './reader-test.css';

/** The reader test (a visual Turing test): a folder of real images, N, the seed; the test itself opens as a dialog. */
export function ReaderTestPanel() {
  // one subscription for the panel's slice of the store (re-renders when any of these changes, as separate selectors would)
  const { phase, model, rt, choose, setReaderTest, start, cancel, check, resume, discard, showError } = useStudio(
    useShallow((s) => ({
      phase: s.phase,
      model: s.model,
      rt: s.readerTest,
      choose: s.chooseRealFolder,
      setReaderTest: s.setReaderTest,
      start: s.startReaderTest,
      cancel: s.cancelReaderTest,
      check: s.checkStoredReaderTest,
      resume: s.resumeReaderTest,
      discard: s.discardReaderTest,
      showError: s.showError,
    })),
  );
  const folderInput = useRef<HTMLInputElement>(null);
  const startButton = useRef<HTMLButtonElement>(null);
  const [dragging, setDragging] = useState(false);

  // an unfinished test of an earlier visit is offered once the page opens
  useEffect(() => {
    void check();
  }, [check]);

  const { folder, stage, progress, stored } = rt;
  const preparing = stage === 'preparing';
  const most = model ? maxPairsFor(model.resolution[0] * model.resolution[1]) : 1;
  const why =
    model === null
      ? 'No model is loaded yet.'
      : phase !== 'ready' && !preparing
        ? 'Wait for the running generation to finish (or cancel it).'
        : folder === null
          ? 'Choose a folder of real images first.'
          : null;

  const onDrop = (e: React.DragEvent) => {
    if (!dragHasFiles(e.dataTransfer)) return;
    // this drop is the reader test's folder, not a model to open (the page-wide drop opens models)
    e.preventDefault();
    e.stopPropagation();
    setDragging(false);
    const name = e.dataTransfer.items[0]?.webkitGetAsEntry()?.name ?? 'dropped files';
    void droppedFolderFiles(e.dataTransfer).then(
      (files) => choose(name, files),
      (err: unknown) => showError(`Could not read the dropped folder: ${String(err)}`),
    );
  };

  return (
    <section className="reader-test panel" aria-labelledby="reader-test-heading">
      <h2 id="reader-test-heading">Reader test</h2>
      <p className="hint">
        A blinded visual Turing test: N real images from a folder of yours (read here, never uploaded) mixed with N pairs of this model at the same size and
        preprocessing, shown one at a time in a seeded random order. See docs/reader-test.md.
      </p>
      {stored && stage === 'setup' ? (
        <div className="reader-stored" role="group" aria-label="Kept reader test">
          <span>
            {stored.answered < stored.total
              ? `An unfinished reader test is kept: ${stored.answered} of ${stored.total} answered (model ${stored.model}, started ${new Date(stored.createdAt).toLocaleString()}).`
              : `A finished reader test is kept (${stored.total} cases, model ${stored.model}).`}
          </span>
          <button type="button" className="primary" onClick={() => void resume()}>
            {stored.answered < stored.total ? 'Resume reader test' : 'Show reader test results'}
          </button>
          <button type="button" onClick={() => void discard()}>
            Discard kept test
          </button>
        </div>
      ) : null}
      <div
        role="group"
        aria-label="Folder of real images (choose, or drop a folder here)"
        className={`reader-folder${dragging ? ' dragging' : ''}`}
        onDragOver={(e) => {
          if (!dragHasFiles(e.dataTransfer)) return;
          e.preventDefault();
          e.stopPropagation();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <button type="button" onClick={() => folderInput.current?.click()} disabled={preparing}>
          Choose folder of real images…
        </button>
        <input
          ref={folderInput}
          type="file"
          hidden
          multiple
          aria-label="Real images folder"
          onChange={(e) => {
            const files = e.currentTarget.files;
            if (files && files.length > 0) choose(files[0].webkitRelativePath.split('/')[0] || 'chosen files', pickedFolderFiles(files));
            e.currentTarget.value = '';
          }}
          {...{ webkitdirectory: '', directory: '' }}
        />
        <span className="hint" data-testid="reader-folder">
          {folder
            ? `${folder.name}: ${folder.images.length} image${folder.images.length === 1 ? '' : 's'}, ${folder.masked} with a mask${
                folder.masked > 0 ? ' (the test draws from those, and masks can be shown)' : ' (masks stay hidden)'
              }${folder.skipped > 0 ? ` · ${folder.skipped} other file${folder.skipped === 1 ? '' : 's'} skipped` : ''}`
            : 'or drop a folder here. Recognized masks: BUS-BRA’s Masks/mask_*, nnU-Net’s labelsTr/, BUSI’s *_mask, a masks/ folder.'}
        </span>
      </div>
      <StoreForm className="reader-controls" onSubmit={() => void start()}>
        <NumberField
          label="Real images (N)"
          max={most}
          value={rt.pairsText}
          disabled={preparing}
          onChange={(pairsText) => setReaderTest({ pairsText })}
          title={`N real images and N generated pairs, 1 to ${most} (and no more than the folder has)`}
        />
        <TextField
          label="Test seed"
          numeric
          value={rt.seedText}
          disabled={preparing}
          onChange={(seedText) => setReaderTest({ seedText })}
          title={`0 to ${MAX_SEED}: the pairs use seeds seed … seed + N − 1; it also draws the real images and the order`}
        />
        <span className="hint">Steps, clip and attributes as in the controls; pairs mode whatever the mode.</span>
        <button ref={startButton} type="submit" className="primary" disabled={why !== null || preparing} aria-describedby={why ? 'reader-blocker' : undefined}>
          Start reader test
        </button>
        <button type="button" onClick={cancel} disabled={!preparing || phase === 'cancelling'}>
          Cancel reader test
        </button>
      </StoreForm>
      <Blocker id="reader-blocker" why={preparing ? null : why} />
      {preparing || rt.note ? (
        <div className="batch-status">
          {progress ? <progress aria-label="Reader test preparation" max={Math.max(1, progress.total)} value={progress.done} /> : null}
          <span aria-live="polite" data-testid="reader-status">
            {progress?.text ?? rt.note}
          </span>
        </div>
      ) : null}
      {stage === 'test' && rt.session ? <ReaderTestDialog returnFocus={startButton} /> : null}
    </section>
  );
}
