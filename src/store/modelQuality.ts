// How far a model's answers can be trusted, from what its own files say: untrained (test fixtures),
// preliminary (trained, but right on fewer validation photos than the ship floor), or tested.
// The UI words each case; a preliminary model's answers are shown as a hint, never as a verdict.

/** The ship floor of the bean model (issue 3): below it a model is called preliminary wherever it is shown. */
export const ACCURACY_FLOOR = 0.85;

export type ModelQuality =
  | { kind: 'untrained' }
  | { kind: 'preliminary'; valAccuracy: number }
  /** Trained, and either at or above the floor or without a measured accuracy (e.g. a head loaded from disk). */
  | { kind: 'tested'; valAccuracy?: number };

/** The i18n key of the short mark shown beside an answer (result line, history list); null for a tested model. */
export function qualityMarkKey(quality: ModelQuality): 'history.untrained' | 'history.preliminary' | null {
  if (quality.kind === 'tested') return null;
  return quality.kind === 'untrained' ? 'history.untrained' : 'history.preliminary';
}

export function modelQuality(trained: boolean, valAccuracy: number | undefined): ModelQuality {
  if (!trained) return { kind: 'untrained' };
  if (valAccuracy !== undefined && Number.isFinite(valAccuracy) && valAccuracy < ACCURACY_FLOOR) {
    return { kind: 'preliminary', valAccuracy };
  }
  return valAccuracy === undefined ? { kind: 'tested' } : { kind: 'tested', valAccuracy };
}
