import { batchProgressText, batchStepsDone } from '../batch/batch';
import { backendLabel, estimateRemainingMs, formatDuration, phaseShares } from '../format';
import { useStudio } from '../page-studio';

/** Backend and progress, announced politely to screen readers (role="status"). */
export function StatusBar() {
  const phase = useStudio((s) => s.phase);
  const model = useStudio((s) => s.model);
  const frames = useStudio((s) => s.frames);
  const runSteps = useStudio((s) => s.runSteps);
  const result = useStudio((s) => s.result);
  const notice = useStudio((s) => s.notice);
  const batchProgress = useStudio((s) => s.batch.progress);

  const done = frames.length;
  const last = frames[done - 1];
  const elapsed = last?.elapsedMs ?? 0;
  const busy = phase === 'running' || phase === 'cancelling';

  let text: string;
  let title: string | undefined;
  let value = result ? result.steps : done;
  let max = Math.max(1, result ? result.steps : runSteps);
  if (batchProgress) {
    // a batch runs: its pair and step, not the viewer's run
    const steps = batchStepsDone(batchProgress);
    text = batchProgressText(batchProgress, phase === 'cancelling');
    value = steps.done;
    max = Math.max(1, steps.total);
  } else if (phase === 'loading') text = 'Loading model…';
  else if (phase === 'failed') text = 'No model loaded';
  else if (phase === 'cancelling') text = `Cancelling… step ${done} of ${runSteps}`;
  else if (phase === 'running') {
    const eta = estimateRemainingMs(done, runSteps, elapsed);
    text =
      done === 0
        ? `Generating: step 0 of ${runSteps}`
        : `Generating: step ${done} of ${runSteps} · ${formatDuration(elapsed / done)}/step · ETA ${formatDuration(eta ?? NaN)}`;
  } else if (result) {
    const shares = phaseShares(result.phases, result.totalMs);
    text = `Done: ${result.steps} of ${result.steps} steps in ${formatDuration(result.totalMs)} (${formatDuration(result.msPerStep)}/step, ${shares.short})`;
    title = shares.full;
  } else if (notice) text = notice;
  else text = 'Ready';

  return (
    <div className="statusbar" role="status" aria-live="polite">
      <span className={`backend backend-${model?.backend ?? 'none'}`} title={model?.backendNote ?? undefined}>
        Backend: {model ? backendLabel(model.backend) : '…'}
        {model?.backendNote ? <span className="backend-note"> ({model.backendNote})</span> : null}
      </span>
      <progress className={busy ? 'busy' : undefined} aria-label="Progress" max={max} value={phase === 'loading' ? undefined : value} />
      <span className="status-text" title={title}>
        {text}
      </span>
    </div>
  );
}
