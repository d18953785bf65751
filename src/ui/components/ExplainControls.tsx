// Where the model looked: method, class to explain, colour map, opacity; advanced options folded away (those the
// method reads, from the engine's method table);
// a side-by-side comparison of every method the model offers.
import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { COLOR_MAPS, HEAD_FUSIONS, methodSpec, methodUses } from '../../engine/index';
import type { ColorMapName, ExplainMethod, HeadFusion } from '../../engine/types';
import { className, formatNumber } from '../../i18n/index';
import { changeExplainSettings, compareMethods, stopComparing } from '../../store/actions';
import { useAppStore } from '../../store/index';
import {
  selectColorMap, selectComparing, selectComparison, selectDiagnosis, selectDiscardRatio, selectHeadFusion, selectMethod,
  selectModel, selectOpacity, selectStartLayer, selectTargetClass,
} from '../../store/selectors';
import { HeatmapCanvas } from './HeatmapCanvas';

export function ExplainControls() {
  const { t, i18n } = useTranslation();
  const id = useId();
  const model = useAppStore(selectModel);
  const method = useAppStore(selectMethod);
  const targetClass = useAppStore(selectTargetClass);
  const colorMap = useAppStore(selectColorMap);
  const opacity = useAppStore(selectOpacity);
  const startLayer = useAppStore(selectStartLayer);
  const headFusion = useAppStore(selectHeadFusion);
  const discardRatio = useAppStore(selectDiscardRatio);
  const diagnosis = useAppStore(selectDiagnosis);
  const comparing = useAppStore(selectComparing);
  if (!model || !diagnosis) return null;
  const topName = className(i18n, diagnosis.labels[diagnosis.top] ?? '');

  return (
    <section className="card explain-controls" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>{t('explain.heading')}</h2>
      <p className="hint">{t('explain.explanation')}</p>

      <label className="field">
        <span>{t('explain.opacity')}: {formatNumber(opacity * 100, i18n.language, 0)} %</span>
        <input
          type="range" min={0} max={1} step={0.05} value={opacity} data-testid="opacity"
          onChange={(e) => void changeExplainSettings({ opacity: Number(e.target.value) })}
        />
      </label>

      <fieldset className="field segmented" data-testid="method-picker">
        <legend>{t('explain.method')}</legend>
        {model.methods.map((m) => (
          <label key={m} className={m === method ? 'checked' : ''}>
            <input
              type="radio" name={`${id}-method`} value={m} checked={m === method} data-testid={`method-${m}`}
              onChange={() => void changeExplainSettings({ method: m as ExplainMethod })}
            />
            {t(methodSpec(m).labelKey)}
          </label>
        ))}
      </fieldset>

      <label className="field">
        <span>{t('explain.explainClass')}</span>
        <select
          data-testid="class-picker"
          value={targetClass === undefined ? '' : String(targetClass)}
          onChange={(e) => void changeExplainSettings({ targetClass: e.target.value === '' ? undefined : Number(e.target.value) })}
        >
          <option value="">{t('explain.topClass', { label: topName })}</option>
          {diagnosis.labels.map((label, i) => (
            <option key={label} value={i}>{t('explain.whyClass', { label: className(i18n, label) })}</option>
          ))}
        </select>
      </label>

      <label className="field">
        <span>{t('explain.colorMap')}</span>
        <select data-testid="colormap-picker" value={colorMap} onChange={(e) => void changeExplainSettings({ colorMap: e.target.value as ColorMapName })}>
          {COLOR_MAPS.map((c) => <option key={c} value={c}>{t(`explain.colorMaps.${c}`)}</option>)}
        </select>
      </label>

      <details className="advanced">
        <summary>{t('explain.advanced')}</summary>
        {methodUses(method, 'startLayer') && (
          <label className="field">
            <span>{t('explain.startLayer')}</span>
            <select
              data-testid="start-layer"
              value={startLayer === undefined ? '' : String(startLayer)}
              onChange={(e) => void changeExplainSettings({ startLayer: e.target.value === '' ? undefined : Number(e.target.value) })}
            >
              <option value="">{t('explain.startLayerDefault')} ({diagnosis.options.startLayer})</option>
              {Array.from({ length: model.layers }, (_, l) => <option key={l} value={l}>{l}</option>)}
            </select>
          </label>
        )}
        {methodUses(method, 'headFusion') && (
          <label className="field">
            <span>{t('explain.headFusion')}</span>
            <select data-testid="head-fusion" value={headFusion} onChange={(e) => void changeExplainSettings({ headFusion: e.target.value as HeadFusion })}>
              {HEAD_FUSIONS.map((f) => <option key={f} value={f}>{t(`explain.headFusions.${f}`)}</option>)}
            </select>
          </label>
        )}
        {methodUses(method, 'discardRatio') && (
          <label className="field">
            <span>{t('explain.discardRatio')}: {formatNumber(discardRatio, i18n.language)}</span>
            <input
              type="range" min={0} max={0.95} step={0.05} value={discardRatio} data-testid="discard-ratio"
              onChange={(e) => void changeExplainSettings({ discardRatio: Number(e.target.value) })}
            />
          </label>
        )}
      </details>

      <button
        type="button" className="button secondary" data-testid="compare" aria-expanded={comparing}
        onClick={() => (comparing ? stopComparing() : void compareMethods())}
      >
        {comparing ? t('explain.stopCompare') : t('explain.compare')}
      </button>
      {comparing && <Comparison />}
    </section>
  );
}

function Comparison() {
  const { t } = useTranslation();
  const model = useAppStore(selectModel);
  const comparison = useAppStore(selectComparison);
  const colorMap = useAppStore(selectColorMap);
  const opacity = useAppStore(selectOpacity);
  if (!model) return null;
  return (
    <ul className="comparison" data-testid="comparison">
      {model.methods.map((m) => {
        const d = comparison[m];
        const name = t(methodSpec(m).labelKey);
        return (
          <li key={m}>
            <HeatmapCanvas
              heatmap={d?.heatmap ?? null} colorMap={colorMap} opacity={opacity} previewUrl={null}
              label={t('explain.canvasLabel', { method: name })} testId={`compare-${m}`} busy={!d}
            />
            <p className="compare-label">{name}</p>
          </li>
        );
      })}
    </ul>
  );
}
