// Loaded by driver.html in the test browser: puts the engine (and the CPU reference) on `window` so tests can
// drive it from page.evaluate without import() in serialized functions.
import * as engine from '../../src/engine/index';
import { explainOnCpu, withExplainDefaults } from '../../src/engine/explain/index';

declare global {
  interface Window {
    leafLens: typeof engine & { explainOnCpu: typeof explainOnCpu; withExplainDefaults: typeof withExplainDefaults };
    leafLensReady: boolean;
    /** Scratch space for objects that live across page.evaluate calls. */
    t: Record<string, unknown>;
  }
}

window.leafLens = { ...engine, explainOnCpu, withExplainDefaults };
window.t = {};
window.leafLensReady = true;
