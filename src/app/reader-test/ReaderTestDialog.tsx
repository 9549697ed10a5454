import { type RefObject, useCallback, useEffect, useRef, useState } from 'react';
import { APP_VERSION } from '../batch/batch';
import { saveFile } from '../exports/download';
import { useStudio } from '../page-studio';
import { grayToRgba, putPixels } from '../viewer/render';
import { compositeOverlay } from '../viewer/viewer-math';
import { answersCsv, answersJson, exportBaseName, type ReaderCase, sessionStats } from './session';
import type { Auc, Proportion, Verdict } from './stats';

const CONFIDENCES = [1, 2, 3, 4, 5] as const;

/** A modal <dialog> (focus stays inside; Escape pauses the test, which is kept): one case at a time, then the results. */
export function ReaderTestDialog({ returnFocus }: { returnFocus: RefObject<HTMLElement | null> }) {
  const test = useStudio((s) => s.readerTest.session);
  const close = useStudio((s) => s.closeReaderTest);
  const ref = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    const back = returnFocus.current;
    return () => back?.focus();
  }, [returnFocus]);

  if (!test) return null;
  const finished = test.answers.length >= test.cases.length;
  return (
    <dialog
      ref={ref}
      className="reader-dialog"
      aria-labelledby="reader-dialog-heading"
      onCancel={(e) => {
        e.preventDefault();
        close();
      }}
    >
      {finished ? <ReaderResults /> : <ReaderCaseView />}
    </dialog>
  );
}

/** The case shown now: the image (and its mask where asked), the question, the confidence, Next. */
function ReaderCaseView() {
  const test = useStudio((s) => s.readerTest.session);
  const showMasks = useStudio((s) => s.readerTest.showMasks);
  const note = useStudio((s) => s.readerTest.note);
  const setReaderTest = useStudio((s) => s.setReaderTest);
  const answerCase = useStudio((s) => s.answerReaderCase);
  const close = useStudio((s) => s.closeReaderTest);
  const [answer, setAnswer] = useState<Verdict | null>(null);
  const [confidence, setConfidence] = useState<number | null>(null);
  const shownAt = useRef(0);
  const heading = useRef<HTMLHeadingElement>(null);
  const index = test?.answers.length ?? 0;
  const current = test?.cases[index];
  const masksAvailable = test?.masks ?? false;

  // a new case: a fresh answer, its clock started, the heading focused (read out by screen readers)
  // biome-ignore lint/correctness/useExhaustiveDependencies: it runs when the case (its index) changes
  useEffect(() => {
    setAnswer(null);
    setConfidence(null);
    shownAt.current = performance.now();
    heading.current?.focus();
  }, [index]);

  const next = useCallback(() => {
    if (answer === null) return;
    void answerCase({ answer, confidence, timeMs: Math.round(performance.now() - shownAt.current) });
  }, [answer, confidence, answerCase]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
      const target = e.target as HTMLElement | null;
      if (target && ['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName) && (target as HTMLInputElement).type !== 'checkbox') return;
      const key = e.key.toLowerCase();
      if (key === 'r') setAnswer('real');
      else if (key === 's') setAnswer('synthetic');
      else if (/^[1-5]$/.test(key)) setConfidence(Number(key));
      else if (key === 'm' && masksAvailable) setReaderTest({ showMasks: !useStudio.getState().readerTest.showMasks });
      // Enter on a focused button is that button's (Pause, a confidence …); elsewhere it is Next
      else if (key === 'enter' && target?.tagName !== 'BUTTON') next();
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [next, masksAvailable, setReaderTest]);

  if (!test || !current) return null;
  return (
    <div className="reader-case">
      <h2 id="reader-dialog-heading" ref={heading} tabIndex={-1} aria-live="polite">
        Reader test: case {index + 1} of {test.cases.length}
      </h2>
      <CaseCanvas item={current} width={test.width} height={test.height} showMask={masksAvailable && showMasks} />
      <p className="reader-question">Real or synthetic?</p>
      <div className="reader-answers" role="group" aria-label="Answer">
        <button type="button" aria-pressed={answer === 'real'} onClick={() => setAnswer('real')}>
          Real (R)
        </button>
        <button type="button" aria-pressed={answer === 'synthetic'} onClick={() => setAnswer('synthetic')}>
          Synthetic (S)
        </button>
      </div>
      <div className="reader-confidence" role="group" aria-label="Confidence, optional: 1 unsure … 5 sure">
        <span className="hint">Confidence (optional): 1 unsure … 5 sure</span>
        {CONFIDENCES.map((c) => (
          <button
            key={c}
            type="button"
            aria-pressed={confidence === c}
            aria-label={`Confidence ${c}`}
            onClick={() => setConfidence(confidence === c ? null : c)}
          >
            {c}
          </button>
        ))}
      </div>
      <div className="reader-actions">
        <button type="button" className="primary" disabled={answer === null} onClick={next}>
          Next (Enter)
        </button>
        <label className="check" title={masksAvailable ? 'Show the mask of every case (M)' : undefined}>
          <input
            type="checkbox"
            checked={masksAvailable && showMasks}
            disabled={!masksAvailable}
            onChange={(e) => setReaderTest({ showMasks: e.currentTarget.checked })}
          />
          Show masks (M)
        </label>
        <button type="button" onClick={close}>
          Pause (Esc)
        </button>
      </div>
      <p className="hint" data-testid="reader-keys">
        Keys: R real · S synthetic · 1–5 confidence · Enter next{masksAvailable ? ' · M masks' : ''} · Esc pause (answers are kept; the test resumes after a
        reload).
        {masksAvailable ? '' : ' Masks stay hidden: not every real image has one, so a mask would tell the cases apart.'}
      </p>
      {note ? <p className="hint blocker">{note}</p> : null}
    </div>
  );
}

/** The case at the model's size, scaled up pixelated; real and generated reach it by the same path (gray bytes, 0/1 mask). */
function CaseCanvas({ item, width, height, showMask }: { item: ReaderCase; width: number; height: number; showMask: boolean }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    const rgba = showMask && item.mask ? compositeOverlay(item.gray, item.mask, 0.3) : grayToRgba(item.gray);
    putPixels(canvas, rgba, width, height);
  }, [item, width, height, showMask]);
  return (
    <canvas
      ref={ref}
      className="reader-canvas"
      data-testid="reader-case"
      style={{ aspectRatio: `${width} / ${height}` }}
      aria-label="The case to judge"
      role="img"
    />
  );
}

const pct = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)}%`);

function ProportionCell({ p }: { p: Proportion }) {
  return (
    <td>
      {p.k}/{p.n} = {pct(p.value)}{' '}
      <span className="hint">
        (95% CI {pct(p.lo)} – {pct(p.hi)})
      </span>
    </td>
  );
}

function aucText(a: Auc | null): string {
  if (a === null) return 'needs cases of both truths';
  const ci = a.lo === null || a.hi === null ? ' (the interval needs 2 cases of each)' : ` (95% CI ${a.lo.toFixed(3)} – ${a.hi.toFixed(3)}, DeLong)`;
  return `${a.auc.toFixed(3)}${ci}`;
}

/** The finished test: its statistics and the downloads. */
function ReaderResults() {
  const test = useStudio((s) => s.readerTest.session);
  const close = useStudio((s) => s.closeReaderTest);
  const discard = useStudio((s) => s.discardReaderTest);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  if (!test) return null;
  const stats = sessionStats(test);
  const base = exportBaseName(test);
  const text = (s: string) => new TextEncoder().encode(s);
  return (
    <div className="reader-results">
      <h2 id="reader-dialog-heading" ref={heading} tabIndex={-1}>
        Reader test results
      </h2>
      <p className="hint">
        {test.cases.length} cases ({test.pairs} real, {test.pairs} generated by model {test.model.name}, {test.model.steps} steps). Positive = synthetic.
      </p>
      <table className="reader-stats" data-testid="reader-stats">
        <tbody>
          <tr>
            <th scope="row">Accuracy</th>
            <ProportionCell p={stats.accuracy} />
          </tr>
          <tr>
            <th scope="row">Sensitivity (synthetic called synthetic)</th>
            <ProportionCell p={stats.sensitivity} />
          </tr>
          <tr>
            <th scope="row">Specificity (real called real)</th>
            <ProportionCell p={stats.specificity} />
          </tr>
          <tr>
            <th scope="row">ROC AUC (answer × confidence, 10 levels)</th>
            <td>{aucText(stats.auc)}</td>
          </tr>
        </tbody>
      </table>
      <p className="hint">An AUC near 0.5 means the reader could not tell the generated images from the real ones.</p>
      <div className="reader-actions">
        <button type="button" className="primary" onClick={() => saveFile(text(answersCsv(test)), `${base}.csv`, 'text/csv')}>
          Download answers (CSV)
        </button>
        <button type="button" onClick={() => saveFile(text(answersJson(test, APP_VERSION)), `${base}.json`, 'application/json')}>
          Download answers (JSON)
        </button>
        <button type="button" onClick={close}>
          Close
        </button>
        <button type="button" onClick={() => void discard()}>
          Discard this test
        </button>
      </div>
    </div>
  );
}
