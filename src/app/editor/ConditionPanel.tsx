import { type PointerEvent, useEffect, useRef, useState } from 'react';
import { useStudio } from '../page-studio';
import { drawGray } from '../viewer/render';
import { lesionCount, paintSegment, stampDisc } from './brush';

/** What the chosen mode starts from: the mask editor (mask → image) or the uploaded image (image → mask). */
export function ConditionPanel() {
  const mode = useStudio((s) => s.mode);
  if (mode === 'maskToImage') return <MaskEditor />;
  if (mode === 'imageToMask') return <ImageCondition />;
  return null;
}

/** A file input styled as a button; its accessible name is `label`. Resets so the same file can be chosen again. */
function UploadButton({ label, disabled, onFile }: { label: string; disabled: boolean; onFile: (file: File) => void }) {
  return (
    <label className={`button upload${disabled ? ' disabled' : ''}`}>
      {label}
      <input
        type="file"
        accept="image/*"
        className="visually-hidden"
        disabled={disabled}
        onChange={(e) => {
          const file = e.currentTarget.files?.[0];
          e.currentTarget.value = '';
          if (file) onFile(file);
        }}
      />
    </label>
  );
}

function percent(count: number, total: number): string {
  return `${((100 * count) / Math.max(1, total)).toFixed(1)}%`;
}

/** 0/1 mask → the editor's pixels: lesion white, background black (the downloaded mask's colours). */
function drawMask(canvas: HTMLCanvasElement, mask: Uint8Array, width: number, height: number): void {
  drawGray(
    canvas,
    Uint8Array.from(mask, (v) => (v ? 255 : 0)),
    width,
    height,
  );
}

type Tool = 'brush' | 'eraser';

/**
 * The mask for mask → image, drawn on the model's own grid (shown scaled up): brush and eraser
 * with pointer events (mouse, pen and touch alike), undo, clear, brush size, or an uploaded file.
 * A stroke paints into a working copy and becomes one undoable change when the pointer lifts.
 */
function MaskEditor() {
  const model = useStudio((s) => s.model);
  const phase = useStudio((s) => s.phase);
  const mask = useStudio((s) => s.mask);
  const canUndo = useStudio((s) => s.maskUndo.length > 0);
  const commitMask = useStudio((s) => s.commitMask);
  const undoMask = useStudio((s) => s.undoMask);
  const clearMask = useStudio((s) => s.clearMask);
  const upload = useStudio((s) => s.uploadCondition);
  const [height, width] = model?.resolution ?? [0, 0];
  const [tool, setTool] = useState<Tool>('brush');
  const [size, setSize] = useState(3);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const stroke = useRef<{ pointerId: number; mask: Uint8Array; last: { x: number; y: number } } | null>(null);

  const disabled = mask === null || phase === 'running' || phase === 'cancelling';
  const maxSize = Math.max(1, Math.floor(Math.min(width, height) / 2));

  useEffect(() => {
    if (canvasRef.current && mask) drawMask(canvasRef.current, mask.mask, width, height);
  }, [mask, width, height]);

  const toPixel = (e: PointerEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    return { x: ((e.clientX - r.left) / r.width) * width, y: ((e.clientY - r.top) / r.height) * height };
  };
  const value = tool === 'brush' ? 1 : 0;

  const onPointerDown = (e: PointerEvent<HTMLCanvasElement>) => {
    if (disabled || !mask || (e.pointerType === 'mouse' && e.button !== 0)) return;
    e.preventDefault();
    e.currentTarget.setPointerCapture(e.pointerId);
    const p = toPixel(e);
    const working = mask.mask.slice();
    stampDisc(working, width, height, p.x, p.y, size, value);
    stroke.current = { pointerId: e.pointerId, mask: working, last: p };
    drawMask(e.currentTarget, working, width, height);
  };
  const onPointerMove = (e: PointerEvent<HTMLCanvasElement>) => {
    const s = stroke.current;
    if (!s || s.pointerId !== e.pointerId) return;
    const p = toPixel(e);
    paintSegment(s.mask, width, height, s.last, p, size, value);
    s.last = p;
    drawMask(e.currentTarget, s.mask, width, height);
  };
  const endStroke = (e: PointerEvent<HTMLCanvasElement>) => {
    const s = stroke.current;
    if (!s || s.pointerId !== e.pointerId) return;
    stroke.current = null;
    const before = mask?.mask;
    if (before && s.mask.some((v, i) => v !== before[i])) commitMask(s.mask);
  };

  const lesion = mask ? lesionCount(mask.mask) : 0;
  const note =
    mask?.note ??
    (lesion > 0
      ? `Drawn at ${width}×${height}; ${percent(lesion, width * height)} lesion`
      : `Draw the lesion (white) at the model's ${width}×${height}, or upload a mask.`);
  // a latent model runs on a coarser grid: say where the drawn mask goes (contracts.md §6a)
  const grid = model?.latent
    ? `You draw at ${width}×${height}; the model's chains run on its ${model.latent.grid[1]}×${model.latent.grid[0]} grid, where a ${model.latent.factor}×${model.latent.factor} cell is lesion when at least half of it is. The final mask is yours at ${width}×${height}.`
    : null;
  return (
    <section className="condition" aria-label="Condition mask">
      <h2>Mask</h2>
      <div className="condition-body">
        <canvas
          ref={canvasRef}
          className="editor-canvas"
          width={width || 1}
          height={height || 1}
          role="img"
          aria-label={`Mask editor, ${width}×${height}: ${lesion} lesion pixels`}
          data-editor="mask"
          data-tool={tool}
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={endStroke}
          onPointerCancel={endStroke}
          onContextMenu={(e) => e.preventDefault()}
        />
        <div className="editor-tools">
          <div className="tool-group" role="group" aria-label="Tool">
            <button type="button" aria-pressed={tool === 'brush'} onClick={() => setTool('brush')} disabled={disabled}>
              Brush
            </button>
            <button type="button" aria-pressed={tool === 'eraser'} onClick={() => setTool('eraser')} disabled={disabled}>
              Eraser
            </button>
          </div>
          <label className="field">
            <span className="field-label">Brush size</span>
            <span className="with-value">
              <input
                type="range"
                min={1}
                max={maxSize}
                step={1}
                value={Math.min(size, maxSize)}
                disabled={disabled}
                onChange={(e) => setSize(Number(e.currentTarget.value))}
                aria-label="Brush size"
              />
              <output aria-hidden="true">{Math.min(size, maxSize)} px</output>
            </span>
          </label>
          <div className="tool-group">
            <button type="button" onClick={undoMask} disabled={disabled || !canUndo}>
              Undo
            </button>
            <button type="button" onClick={clearMask} disabled={disabled || lesion === 0}>
              Clear
            </button>
          </div>
          <UploadButton label="Upload mask" disabled={disabled} onFile={(file) => void upload('mask', file)} />
          <p className="condition-note" data-testid="mask-note" aria-live="polite">
            {note}
          </p>
          {grid ? (
            <p className="condition-note" data-testid="mask-grid">
              {grid}
            </p>
          ) : null}
        </div>
      </div>
    </section>
  );
}

/** The image for image → mask: uploaded, shown at the model's size as the mask model sees it. */
function ImageCondition() {
  const model = useStudio((s) => s.model);
  const phase = useStudio((s) => s.phase);
  const image = useStudio((s) => s.conditionImage);
  const upload = useStudio((s) => s.uploadCondition);
  const [height, width] = model?.resolution ?? [0, 0];
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const disabled = model === null || phase === 'running' || phase === 'cancelling';

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    if (image) drawGray(canvas, image.gray, width, height);
    else canvas.getContext('2d')?.clearRect(0, 0, canvas.width, canvas.height);
  }, [image, width, height]);

  return (
    <section className="condition" aria-label="Condition image">
      <h2>Image</h2>
      <div className="condition-body">
        <canvas
          ref={canvasRef}
          className="editor-canvas"
          width={width || 1}
          height={height || 1}
          role="img"
          aria-label={image ? `Uploaded image at ${width}×${height}` : 'No image uploaded'}
          data-editor="image"
        />
        <div className="editor-tools">
          <UploadButton label="Upload image" disabled={disabled} onFile={(file) => void upload('image', file)} />
          <p className="condition-note" data-testid="image-note" aria-live="polite">
            {image?.note ?? `Upload an ultrasound image: it is converted to gray, resized to the model's ${width}×${height} and segmented.`}
          </p>
        </div>
      </div>
    </section>
  );
}
