import { TimelineExports } from '../exports/TimelineExports';
import { useStudio } from '../page-studio';
import { selectShownIndex } from '../store/store';
import { usePlayback } from './usePlayback';

/** The slider over every step of the run, with play/pause and the step's t, and the run's exports. */
export function Timeline() {
  usePlayback();
  const frames = useStudio((s) => s.frames);
  const cursor = useStudio((s) => s.cursor);
  const playing = useStudio((s) => s.playing);
  const runSteps = useStudio((s) => s.runSteps);
  const setCursor = useStudio((s) => s.setCursor);
  const togglePlay = useStudio((s) => s.togglePlay);

  const shown = selectShownIndex({ frames, cursor });
  const frame = shown >= 0 ? frames[shown] : undefined;
  const n = frames.length;
  const empty = n === 0;
  const position = frame ? `${frame.index + 1} / ${Math.max(frame.total, runSteps)}` : '– / –';

  return (
    <div className="timeline">
      <button
        type="button"
        className="play"
        onClick={togglePlay}
        disabled={n < 2}
        aria-pressed={playing}
        title={playing ? 'Pause the timeline' : 'Play the timeline'}
      >
        {playing ? 'Pause' : 'Play'}
      </button>
      <label htmlFor="step-slider" className="timeline-label">
        Step
      </label>
      <input
        id="step-slider"
        type="range"
        min={0}
        max={Math.max(0, n - 1)}
        step={1}
        value={Math.max(0, shown)}
        disabled={empty}
        onChange={(e) => setCursor(Number(e.currentTarget.value))}
        aria-valuetext={frame ? `Step ${frame.index + 1} of ${frame.total}, t = ${frame.t}` : 'No steps yet'}
      />
      <span className="timeline-pos" data-testid="step-position">
        {position}
      </span>
      <span className="timeline-t" data-testid="step-t">
        t = {frame ? frame.t : '–'}
      </span>
      <TimelineExports />
    </div>
  );
}
