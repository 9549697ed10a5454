import { type KeyboardEvent as ReactKeyboardEvent, type ReactNode, type PointerEvent as ReactPointerEvent, useEffect, useMemo, useRef, useState } from 'react';
import { useStudio } from '../page-studio';
import { selectShownImage, selectShownIndex } from '../store/store';
import { frameMaskBits, imageGray, maskGray } from './display';
import { PixelReadout } from './PixelReadout';
import { clearPane, drawPane, grayToRgba, putPixels } from './render';
import { useRafEffect } from './useRafCallback';
import { ViewerToolbar } from './ViewerToolbar';
import {
  applyTable,
  compositeOverlay,
  dragWindowLevel,
  fitView,
  maskOutline,
  pixelAt,
  type Size,
  type ViewState,
  viewTransform,
  type WindowLevel,
  wheelZoomFactor,
  windowLevelTable,
} from './viewer-math';
import { useViewer } from './viewer-store';

type PaneKind = 'mask' | 'image' | 'overlay';

/** The transform a pane shows now (the viewer's zoom/pan, or fit). */
function paneTransform(canvas: HTMLCanvasElement, image: Size) {
  const pane = { width: canvas.clientWidth, height: canvas.clientHeight };
  return viewTransform(useViewer.getState().view ?? fitView(image), pane, image);
}

/**
 * The viewer: the mask estimate x̂₀, the image estimate ŷ₀ and the mask B(x̂₀) on the image, side by
 * side or as one overlaid view; all panes share one zoom/pan, the image's window/level and invert.
 */
export function Views() {
  const model = useStudio((s) => s.model);
  const frames = useStudio((s) => s.frames);
  const cursor = useStudio((s) => s.cursor);
  const stretch = useStudio((s) => s.stretch);
  const result = useStudio((s) => s.result);
  const decoded = useStudio((s) => s.decoded);
  const decoding = useStudio((s) => s.decoding);
  const view = useViewer((s) => s.view);
  const windowLevel = useViewer((s) => s.windowLevel);
  const invert = useViewer((s) => s.invert);
  const overlayOpacity = useViewer((s) => s.overlayOpacity);
  const outline = useViewer((s) => s.outline);
  const layout = useViewer((s) => s.layout);

  const shown = selectShownIndex({ frames, cursor });
  const frame = shown >= 0 ? frames[shown] : undefined;
  // a latent model's step: the linear preview of ẑ₀ until decoded (on the last step, or on demand)
  const shownImage = useMemo(() => selectShownImage({ frames, cursor, result, decoded }), [frames, cursor, result, decoded]);
  const [height, width] = model?.resolution ?? [0, 0];

  // The panes' pixels at the image's own size; recomputed when the data or the mapping changes,
  // not when the view only zooms or pans.
  const pixels = useMemo(() => {
    if (!frame || !shownImage || width === 0) return null;
    const bits = frameMaskBits(frame, result, width, height);
    const gray = applyTable(imageGray(shownImage.image, width, height, stretch), windowLevelTable(windowLevel, invert));
    return {
      mask: grayToRgba(maskGray(frame.x0)),
      image: grayToRgba(gray),
      overlay: compositeOverlay(gray, bits, overlayOpacity),
      outline: outline ? maskOutline(bits, width, height) : null,
    };
  }, [frame, shownImage, result, width, height, stretch, windowLevel, invert, overlayOpacity, outline]);

  const sources = useRef<Record<PaneKind, HTMLCanvasElement> | null>(null);
  const panes = useRef<Partial<Record<PaneKind, HTMLCanvasElement | null>>>({});
  const putFor = useRef<typeof pixels>(null);
  // Panes change size with the window and the layout: redraw then too.
  const [resized, setResized] = useState(0);
  const viewsRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = viewsRef.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => setResized((n) => n + 1));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  useRafEffect(() => {
    const kinds = Object.keys(panes.current) as PaneKind[];
    if (!pixels) {
      for (const k of kinds) {
        const c = panes.current[k];
        if (c) clearPane(c);
      }
      putFor.current = null;
      return;
    }
    sources.current ??= {
      mask: document.createElement('canvas'),
      image: document.createElement('canvas'),
      overlay: document.createElement('canvas'),
    };
    const src = sources.current;
    if (putFor.current !== pixels) {
      putPixels(src.mask, pixels.mask, width, height);
      putPixels(src.image, pixels.image, width, height);
      putPixels(src.overlay, pixels.overlay, width, height);
      putFor.current = pixels;
    }
    for (const k of kinds) {
      const canvas = panes.current[k];
      if (!canvas) continue;
      const t = paneTransform(canvas, { width, height });
      drawPane(canvas, src[k], t, k === 'overlay' ? pixels.outline : null);
      // For tests and tools: the scale (CSS px per image pixel) and offset the pane shows.
      canvas.dataset.scale = t.scale.toFixed(4);
      canvas.dataset.offset = `${t.offsetX.toFixed(2)},${t.offsetY.toFixed(2)}`;
    }
  }, [pixels, view, layout, resized, width, height]);

  const caption = frame ? `step ${frame.index + 1} of ${frame.total}, t = ${frame.t}` : 'no run yet';
  // what a latent model's image pane shows: the decoder's image, or the cheap preview (decoding on demand)
  const imageTag =
    shownImage?.kind === 'preview'
      ? decoding === shown
        ? 'preview · decoding…'
        : 'linear preview'
      : shownImage?.kind === 'decoded' || (shownImage?.kind === 'final' && model?.latent)
        ? 'decoded'
        : null;
  const image = { width, height };
  const pane = (kind: PaneKind, label: string, title: ReactNode) => (
    <figure className="view" key={kind}>
      <Pane
        kind={kind}
        image={image}
        label={`${label}, ${caption}`}
        canvasRef={(c) => {
          if (c) panes.current[kind] = c;
          else delete panes.current[kind];
        }}
      />
      <figcaption>{title}</figcaption>
    </figure>
  );

  return (
    <div className="viewer">
      <ViewerToolbar image={image} />
      <div className="views" ref={viewsRef} data-layout={layout} data-empty={frame ? undefined : 'true'}>
        {layout === 'side-by-side'
          ? [
              pane(
                'mask',
                'Mask estimate x̂₀',
                <>
                  Mask <span className="sym">x̂₀</span>
                </>,
              ),
              pane(
                'image',
                'Image estimate ŷ₀',
                <>
                  Image <span className="sym">ŷ₀</span>
                  {stretch ? <span className="tag">stretched</span> : null}
                  {imageTag ? (
                    <span className="tag" data-testid="image-kind">
                      {imageTag}
                    </span>
                  ) : null}
                </>,
              ),
            ]
          : null}
        {pane(
          'overlay',
          'Overlay of the mask on the image',
          <>
            Overlay <span className="sym">B(x̂₀)</span> on <span className="sym">ŷ₀</span>
          </>,
        )}
      </div>
      <PixelReadout />
    </div>
  );
}

interface DragStart {
  pointerId: number;
  x: number;
  y: number;
  mode: 'pan' | 'window-level';
  view: ViewState | null;
  windowLevel: WindowLevel;
}

/** One canvas: drag pans (or sets window/level), the wheel zooms about the pointer, hover reads out. */
function Pane(props: { kind: PaneKind; image: Size; label: string; canvasRef: (c: HTMLCanvasElement | null) => void }) {
  const { kind, image, label, canvasRef } = props;
  const ref = useRef<HTMLCanvasElement | null>(null);
  const drag = useRef<DragStart | null>(null);
  const tool = useViewer((s) => s.tool);
  const imageRef = useRef(image);
  imageRef.current = image;

  // React's onWheel is passive: a native listener may cancel the page scroll.
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    const onWheel = (e: WheelEvent) => {
      const img = imageRef.current;
      if (img.width === 0) return;
      e.preventDefault();
      const rect = canvas.getBoundingClientRect();
      const pane = { width: canvas.clientWidth, height: canvas.clientHeight };
      useViewer.getState().zoom(wheelZoomFactor(e.deltaY), { x: e.clientX - rect.left, y: e.clientY - rect.top }, pane, img);
    };
    canvas.addEventListener('wheel', onWheel, { passive: false });
    return () => canvas.removeEventListener('wheel', onWheel);
  }, []);

  const local = (e: ReactPointerEvent<HTMLCanvasElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    return { x: e.clientX - rect.left, y: e.clientY - rect.top };
  };

  const onPointerDown = (e: ReactPointerEvent<HTMLCanvasElement>) => {
    if (e.button !== 0 || image.width === 0) return;
    e.currentTarget.setPointerCapture(e.pointerId);
    const s = useViewer.getState();
    drag.current = {
      pointerId: e.pointerId,
      x: e.clientX,
      y: e.clientY,
      mode: e.shiftKey || s.tool === 'window-level' ? 'window-level' : 'pan',
      view: s.view,
      windowLevel: s.windowLevel,
    };
  };

  const onPointerMove = (e: ReactPointerEvent<HTMLCanvasElement>) => {
    if (image.width === 0) return;
    const canvas = e.currentTarget;
    const d = drag.current;
    if (d && d.pointerId === e.pointerId) {
      const dx = e.clientX - d.x;
      const dy = e.clientY - d.y;
      const pane = { width: canvas.clientWidth, height: canvas.clientHeight };
      if (d.mode === 'pan') useViewer.getState().pan(d.view, dx, dy, pane, image);
      else useViewer.getState().setWindowLevel(dragWindowLevel(d.windowLevel, dx, dy));
    }
    const p = local(e);
    useViewer.getState().setHover(pixelAt(paneTransform(canvas, image), p.x, p.y, image));
  };

  // Keyboard: arrows pan a tenth of the pane, + and − zoom, 0 fits.
  const onKeyDown = (e: ReactKeyboardEvent<HTMLCanvasElement>) => {
    if (image.width === 0) return;
    const canvas = e.currentTarget;
    const pane = { width: canvas.clientWidth, height: canvas.clientHeight };
    const v = useViewer.getState();
    const step = { x: pane.width / 10, y: pane.height / 10 };
    const pans: Record<string, [number, number]> = { ArrowLeft: [step.x, 0], ArrowRight: [-step.x, 0], ArrowUp: [0, step.y], ArrowDown: [0, -step.y] };
    if (e.key in pans) v.pan(v.view, pans[e.key][0], pans[e.key][1], pane, image);
    else if (e.key === '+' || e.key === '=') v.zoomIn(image);
    else if (e.key === '-') v.zoomOut(image);
    else if (e.key === '0') v.fit();
    else return;
    e.preventDefault();
  };

  const endDrag = (e: ReactPointerEvent<HTMLCanvasElement>) => {
    if (drag.current?.pointerId === e.pointerId) drag.current = null;
  };

  return (
    <canvas
      ref={(c) => {
        ref.current = c;
        canvasRef(c);
      }}
      role="img"
      aria-label={label}
      aria-keyshortcuts="ArrowLeft ArrowRight ArrowUp ArrowDown + - 0"
      tabIndex={0}
      onKeyDown={onKeyDown}
      data-view={kind}
      data-tool={tool}
      style={{ aspectRatio: image.width > 0 ? `${image.width} / ${image.height}` : undefined }}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={endDrag}
      onPointerCancel={endDrag}
      onPointerLeave={() => {
        if (!drag.current) useViewer.getState().setHover(null);
      }}
      onDoubleClick={() => useViewer.getState().fit()}
    />
  );
}
