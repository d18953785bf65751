// The photo with its heatmap: the chosen photo appears at once (plain <img>), the heatmap canvas is drawn
// over it when a diagnosis arrives. Both sit in one fixed square box, so nothing below jumps.
// Touch or hover reads the map value under the finger.
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ColorMapName, Heatmap } from '../../engine/types';
import { formatNumber } from '../../i18n/index';
import { toUiError } from '../../store/errors';
import { useAppStore } from '../../store/index';
import { valueAt } from '../heatmap/storedHeatmap';

export interface HeatmapCanvasProps {
  heatmap: Heatmap | null;
  colorMap: ColorMapName;
  opacity: number;
  /** Shown until the heatmap is drawn (and under a transparent canvas while redrawing). */
  previewUrl: string | null;
  label: string;
  testId?: string;
  /** Show the value under the pointer (the main view; not the small comparison tiles). */
  readout?: boolean;
  busy?: boolean;
  /** Shown right above the photo (the answer line: on a phone, the first screen shows it with the photo). */
  above?: React.ReactNode;
}

/** Canvas backing size: the CSS size times the pixel ratio, capped so phones do not draw 4K maps. */
function backingSize(element: HTMLElement): number {
  const css = element.getBoundingClientRect().width || 320;
  return Math.max(64, Math.min(1024, Math.round(css * Math.min(2, window.devicePixelRatio || 1))));
}

export function HeatmapCanvas({ heatmap, colorMap, opacity, previewUrl, label, testId, readout, busy, above }: HeatmapCanvasProps) {
  const { t, i18n } = useTranslation();
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [drawn, setDrawn] = useState<Heatmap | null>(null);
  const [value, setValue] = useState<number | null>(null);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !heatmap) { setDrawn(null); return; }
    let cancelled = false;
    const size = backingSize(canvas);
    if (canvas.width !== size) { canvas.width = size; canvas.height = size; }
    heatmap.draw(canvas, { colorMap, opacity })
      .then(() => { if (!cancelled) setDrawn(heatmap); })
      .catch((error: unknown) => { if (!cancelled) useAppStore.getState().setAppError(toUiError(error, 'internal')); });
    return () => { cancelled = true; };
  }, [heatmap, colorMap, opacity]);

  function onPointer(event: React.PointerEvent<HTMLCanvasElement>) {
    if (!readout || !heatmap) return;
    const rect = event.currentTarget.getBoundingClientRect();
    setValue(valueAt(heatmap, (event.clientX - rect.left) / rect.width, (event.clientY - rect.top) / rect.height));
  }

  const showCanvas = heatmap !== null && drawn === heatmap;
  return (
    <figure className="photo-figure">
      {above}
      <div className={`photo-box${busy ? ' busy' : ''}`}>
        {previewUrl && <img src={previewUrl} alt={t('photo.alt')} className="photo" data-testid="photo-preview" />}
        <canvas
          ref={canvasRef}
          className={`heatmap${showCanvas ? ' shown' : ''}`}
          data-testid={testId}
          data-drawn={showCanvas ? 'true' : 'false'}
          role="img"
          aria-label={label}
          onPointerMove={onPointer}
          onPointerDown={onPointer}
          onPointerLeave={() => setValue(null)}
        />
        {busy && <div className="spinner" aria-hidden="true" />}
      </div>
      {readout && heatmap && (
        <figcaption className="readout" aria-live="polite">
          {value === null ? t('explain.valueHint') : t('explain.valueAt', { value: formatNumber(value, i18n.language) })}
        </figcaption>
      )}
    </figure>
  );
}
