// Module-scope selectors: one field (or one derived primitive) each, so components re-render only when
// what they show changes.
import type { AppState } from './slices';

export const selectModelStatus = (s: AppState) => s.modelStatus;
export const selectModel = (s: AppState) => s.model;
export const selectModelUrl = (s: AppState) => s.modelUrl;
export const selectRequestedModelUrl = (s: AppState) => s.requestedModelUrl;
export const selectModelError = (s: AppState) => s.modelError;
export const selectDownloadFraction = (s: AppState) => s.downloadFraction;
export const selectLastProgress = (s: AppState) => s.lastProgress;
export const selectFromCache = (s: AppState) => s.fromCache;
export const selectBackend = (s: AppState) => s.backend;
export const selectBackendPreference = (s: AppState) => s.backendPreference;
export const selectEngineStatus = (s: AppState) => s.engineStatus;
export const selectCustomHeadName = (s: AppState) => s.customHeadName;
export const selectModelUntrained = (s: AppState) => s.model !== null && !s.model.trained;

export const selectPhotoPreviewUrl = (s: AppState) => s.photoPreviewUrl;
export const selectPhotoName = (s: AppState) => s.photoName;
export const selectPhotoStatus = (s: AppState) => s.photoStatus;
export const selectPhoto = (s: AppState) => s.photo;
export const selectPhotoError = (s: AppState) => s.photoError;

export const selectMethod = (s: AppState) => s.method;
export const selectTargetClass = (s: AppState) => s.targetClass;
export const selectStartLayer = (s: AppState) => s.startLayer;
export const selectHeadFusion = (s: AppState) => s.headFusion;
export const selectDiscardRatio = (s: AppState) => s.discardRatio;
export const selectColorMap = (s: AppState) => s.colorMap;
export const selectOpacity = (s: AppState) => s.opacity;
export const selectDiagnosis = (s: AppState) => s.diagnosis;
export const selectDiagnosing = (s: AppState) => s.diagnosing;
export const selectDiagnosisError = (s: AppState) => s.diagnosisError;
export const selectComparison = (s: AppState) => s.comparison;
export const selectComparing = (s: AppState) => s.comparing;
export const selectRevealedOutOfDomain = (s: AppState) => s.revealedOutOfDomain;
/** Whether the diagnosis on screen is unsure (a boolean, so the selector result is stable). */
export const selectUnsure = (s: AppState) => (s.diagnosis ? s.diagnosis.outcome !== 'sure' : false);

export const selectPanel = (s: AppState) => s.panel;
export const selectAppError = (s: AppState) => s.appError;
export const selectUpdateAvailable = (s: AppState) => s.updateAvailable;
export const selectInstallAvailable = (s: AppState) => s.installAvailable;
export const selectOfflineReady = (s: AppState) => s.offlineReady;

export const selectSaveState = (s: AppState) => s.saveState;
export const selectSaveError = (s: AppState) => s.saveError;
export const selectSavedEntryId = (s: AppState) => s.savedEntryId;
export const selectReopened = (s: AppState) => s.reopened;
export const selectSaveLocation = (s: AppState) => s.saveLocation;
export const selectCurrentField = (s: AppState) => s.currentField;
export const selectHistoryFilter = (s: AppState) => s.historyFilter;

export const selectDiagnoseMode = (s: AppState) => s.diagnoseMode;
export const selectGroupLeaves = (s: AppState) => s.groupLeaves;
export const selectGroupResult = (s: AppState) => s.groupResult;
export const selectGroupOverflow = (s: AppState) => s.groupOverflow;
export const selectGroupOpenLeaf = (s: AppState) => s.groupOpenLeaf;
