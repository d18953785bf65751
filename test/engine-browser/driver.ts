// Loaded by driver.html in the test browser: puts the engine (and the CPU reference) on `window` so tests can
// drive it from page.evaluate without import() in serialized functions.
import * as engine from '../../src/engine/index';
import { explainOnCpu, withExplainDefaults } from '../../src/engine/explain/index';
import { preprocessBitmap } from '../../src/engine/image/preprocess';

declare global {
  interface Window {
    leafLens: typeof engine & { explainOnCpu: typeof explainOnCpu; withExplainDefaults: typeof withExplainDefaults; preprocessBitmap: typeof preprocessBitmap };
    leafLensReady: boolean;
    /** Scratch space for objects that live across page.evaluate calls. */
    t: Record<string, unknown>;
  }
}

window.leafLens = { ...engine, explainOnCpu, withExplainDefaults, preprocessBitmap };
window.t = {};
window.leafLensReady = true;
