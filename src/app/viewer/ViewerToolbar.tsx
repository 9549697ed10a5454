import { useStudio } from '../page-studio';
import { LEVEL_RANGE, presetName, type Size, WINDOW_PRESETS, WINDOW_RANGE } from './viewer-math';
import { useViewer, type ViewerLayout } from './viewer-store';

/** Zoom, drag tool, window/level with presets, invert, contrast stretch, overlay and layout. */
export function ViewerToolbar({ image }: { image: Size }) {
  const view = useViewer((s) => s.view);
  const windowLevel = useViewer((s) => s.windowLevel);
  const invert = useViewer((s) => s.invert);
  const overlayOpacity = useViewer((s) => s.overlayOpacity);
  const outline = useViewer((s) => s.outline);
  const layout = useViewer((s) => s.layout);
  const tool = useViewer((s) => s.tool);
  const viewer = useViewer.getState();
  const stretch = useStudio((s) => s.stretch);
  const setStretch = useStudio((s) => s.setStretch);

  const noImage = image.width === 0;
  const zoom = view?.zoom ?? 1;
  const preset = presetName(windowLevel);

  return (
    <div className="viewer-toolbar" role="toolbar" aria-label="Viewer">
      <div className="tool-group" role="group" aria-label="Zoom">
        <button type="button" aria-label="Zoom out" title="Zoom out (or the mouse wheel)" disabled={noImage} onClick={() => viewer.zoomOut(image)}>
          −
        </button>
        <span className="zoom-level" data-testid="zoom-level">
          {Math.round(zoom * 100)}%
        </span>
        <button type="button" aria-label="Zoom in" title="Zoom in (or the mouse wheel)" disabled={noImage} onClick={() => viewer.zoomIn(image)}>
          +
        </button>
        <button type="button" aria-label="Fit" title="Fit the whole image (or double-click a view)" onClick={viewer.fit}>
          Fit
        </button>
      </div>

      <fieldset className="tool-group">
        <legend>Drag</legend>
        <label className="check" title="Drag moves the image">
          <input type="radio" name="drag-tool" checked={tool === 'pan'} onChange={() => viewer.setTool('pan')} />
          Pan
        </label>
        <label className="check" title="Drag right widens the window, down raises the level (Shift+drag does this in any mode)">
          <input type="radio" name="drag-tool" checked={tool === 'window-level'} onChange={() => viewer.setTool('window-level')} />
          Window/level
        </label>
      </fieldset>

      <div className="tool-group" role="group" aria-label="Window and level of the image">
        <select
          aria-label="Window preset"
          value={preset ?? ''}
          onChange={(e) => {
            const p = WINDOW_PRESETS.find((x) => x.name === e.currentTarget.value);
            if (p) viewer.setWindowLevel(p.wl);
          }}
        >
          {preset === null ? (
            <option value="" disabled>
              Custom
            </option>
          ) : null}
          {WINDOW_PRESETS.map((p) => (
            <option key={p.name} value={p.name}>
              {p.name}
            </option>
          ))}
        </select>
        <label className="slider">
          <span>W</span>
          <input
            type="range"
            aria-label="Window"
            min={WINDOW_RANGE.min}
            max={WINDOW_RANGE.max}
            step={0.5}
            value={windowLevel.window}
            onChange={(e) => viewer.setWindowLevel({ ...windowLevel, window: Number(e.currentTarget.value) })}
          />
          <span className="num">{windowLevel.window}</span>
        </label>
        <label className="slider">
          <span>L</span>
          <input
            type="range"
            aria-label="Level"
            min={LEVEL_RANGE.min}
            max={LEVEL_RANGE.max}
            step={0.5}
            value={windowLevel.level}
            onChange={(e) => viewer.setWindowLevel({ ...windowLevel, level: Number(e.currentTarget.value) })}
          />
          <span className="num">{windowLevel.level}</span>
        </label>
        <label className="check">
          <input type="checkbox" checked={invert} onChange={(e) => viewer.setInvert(e.currentTarget.checked)} />
          Invert
        </label>
        <label className="check" title="Show the image as the reference code displays it; downloads are always raw">
          <input type="checkbox" checked={stretch} onChange={(e) => setStretch(e.currentTarget.checked)} />
          Contrast stretch
        </label>
      </div>

      <div className="tool-group" role="group" aria-label="Mask overlay">
        <label className="slider">
          <span>Fill</span>
          <input
            type="range"
            aria-label="Overlay opacity"
            min={0}
            max={1}
            step={0.05}
            value={overlayOpacity}
            onChange={(e) => viewer.setOverlayOpacity(Number(e.currentTarget.value))}
          />
          <span className="num">{Math.round(overlayOpacity * 100)}%</span>
        </label>
        <label className="check">
          <input type="checkbox" checked={outline} onChange={(e) => viewer.setOutline(e.currentTarget.checked)} />
          Outline
        </label>
        <select aria-label="Layout" value={layout} onChange={(e) => viewer.setLayout(e.currentTarget.value as ViewerLayout)}>
          <option value="side-by-side">Side by side</option>
          <option value="overlaid">Overlaid</option>
        </select>
      </div>
    </div>
  );
}
