// The engine's public entry point: the UI and the store import only from here.
//
//   const engine = await createEngine('models/deit-tiny-beans/', { backend: 'auto', onProgress, onStatus });
//   const photo = await engine.loadPhoto(file);                  // decoded once, EXIF-upright, ≤ 1600 px
//   const d = await engine.diagnose(photo, { method: 'relevance' });
//   await d.heatmap.draw(canvas, { colorMap: 'turbo', opacity: 0.5 });
//   await engine.diagnose(photo, { method: 'rollout' });         // reuses the model outputs: no new run
//   await engine.setHead(headJson, 'my-head.json');              // other classes, same backbone
//
// Every refusal is an EngineError with a `code`, a plain `message` and a technical `detail`.
// EXPLAIN_METHOD_TABLE says what each method needs and which options (controls) it reads; the UI renders from it.
// engineDiagnostics / engineCachedOutputs / engineDevice / engineStages and the kernels are for tests, benchmarks and
// evaluations, not for the UI.
export * from './types';
export { EngineError, describeError, isEngineError } from './errors';
export { createEngine, memoryFileCache, DEFAULT_CACHE_NAME } from './engine';
export { engineCachedOutputs, engineDevice, engineDiagnostics, engineStages } from './probes';
export type { EngineDiagnostics } from './probes';
export type { CachedOutputs } from './runCache';
// The sure / unsure / not-bean-leaf rule, for saved answers that predate `Diagnosis.outcome`.
export { decideOutcome } from './model/domain';
// Yielding to the browser between pieces of start-up work (the app's start and the engine's loading use the same).
export { nextTask } from './nextTask';
// How many leaves one field check may combine.
export { MAX_GROUP_LEAVES } from './model/group';
// Teaching a class on the phone, corrections and shared heads: pure functions over head.json objects.
export {
  ADVISED_PHOTOS, MIN_TEACH_PHOTOS, MAX_NOTE_LENGTH, addExample, headFileText, localExampleCount, readHeadFile, renamedHead,
  taughtClassesOf, teachClass,
} from './model/taught';
export type { BackboneId, HeadJson, TaughtClass, TeachRequest } from './model/taught';
export { classNameProblem, cleanClassName } from './model/labels';
export type { ClassNameProblem } from './model/labels';
// The explanation methods (what each reads, which controls apply), head fusions and colour maps, for the UI.
export { EXPLAIN_METHODS, EXPLAIN_METHOD_TABLE, HEAD_FUSIONS, methodSpec, methodUses } from './explain/methods';
export type { ExplainControl, ExplainMethodSpec } from './explain/methods';
export { COLOR_MAPS } from './render/colorMaps';
// Saved heatmaps (history) are drawn by the engine's renderer too.
export { heatmapFromValues } from './draw';
export type { HeatmapValues } from './draw';
// Measuring: a diagnosis stage by stage on an engine's backend (engineStages), the photo decode and model input the
// engine makes, and the WGSL kernels with their CPU references on any device (kernels.ts).
export { modelInput } from './stages';
export type { EngineStages } from './stages';
export type { CropRect, GraphKind, ModelInput, OutputName, StageRun, StageRunOptions } from './stages';
export { decodePhoto } from './image/decode';
export type { DecodedPhoto } from './image/decode';
export * from './kernels';
