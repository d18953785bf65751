// The outcome and the domain check through the engine's public API, on WASM and WebGPU (SwiftShader here): the
// random-init fixture's head has no statistics (unchecked, the app's notice case); a head whose statistics centre
// on this photo's own features accepts it, one centred elsewhere refuses it as not-bean-leaf, with the same score
// on both backends. Swapping the head reuses the cached run: no new model run (≈15 s each on SwiftShader).
import { expect, test } from 'vitest';
import { fixtureDriverPerFile, imageBase64 } from './support';

const fixture = fixtureDriverPerFile();

test('outcome, calibrated probabilities and the domain check on WASM and WebGPU', async () => {
  const result = await fixture.driver.page.evaluate(async ({ url, img }) => {
    const api = window.leafLens;
    const blob = new Blob([Uint8Array.from(atob(img), (c) => c.charCodeAt(0))], { type: 'image/jpeg' });
    const headJson = await (await fetch(`${url}head.json`)).json() as Record<string, unknown> & { labels: string[]; features: number };
    const out: Record<string, unknown> = {};
    for (const backend of ['wasm', 'webgpu'] as const) {
      const engine = await api.createEngine(url, { backend, modelCache: api.memoryFileCache() });
      const photo = await engine.loadPhoto(blob);
      const plain = await engine.diagnose(photo, { method: 'attention' });
      const domainCheckBefore = engine.model.domainCheck;
      const manifestFeatures = (await (await fetch(`${url}manifest.json`)).json() as { features: number }).features;
      const f = plain.features.length;
      const norm = Math.hypot(...plain.features);
      const own = Array.from(plain.features, (v) => v / norm);
      // Statistics: every class mean at this photo's normalised features (or their negation), scatter = 0.01·I·n.
      const withStats = (sign: number, temperature: number) => ({
        ...headJson,
        statistics: {
          feature_norm: 'l2',
          class_means: headJson.labels.map(() => own.map((v) => sign * v)),
          class_counts: headJson.labels.map(() => 10),
          scatter: Array.from({ length: f }, (_, i) => Array.from({ length: f }, (_, j) => (i === j ? 0.01 * 10 * headJson.labels.length : 0))),
          shrinkage: 0.1,
        },
        calibration: { temperature },
        open_set: { score: 'mahalanobis', threshold: 50 },
        confidence: { min_probability: 0.01 },
      });
      const runsBefore = api.engineDiagnostics(engine);
      const info = await engine.setHead(withStats(1, 2), 'centred.json');
      const inside = await engine.diagnose(photo, { method: 'attention' });
      await engine.setHead(withStats(-1, 2), 'elsewhere.json');
      const outside = await engine.diagnose(photo, { method: 'attention' });
      const runsAfter = api.engineDiagnostics(engine);
      const softmaxT = (l: ArrayLike<number>, t: number) => { const m = Math.max(...Array.from(l)); const e = Array.from(l, (v) => Math.exp((v - m) / t)); const s = e.reduce((a, b) => a + b, 0); return e.map((v) => v / s); };
      out[backend] = {
        backend: engine.backend,
        plain: { outcome: plain.outcome, domain: plain.domain, domainCheck: domainCheckBefore, logits: plain.logits.length, features: f, manifestFeatures, quality: Array.isArray(plain.quality.issues) },
        domainCheckAfter: info.domainCheck,
        inside: { outcome: inside.outcome, domain: inside.domain, probGap: Math.max(...softmaxT(inside.logits, 2).map((p, i) => Math.abs(p - inside.probabilities[i]!))) },
        outside: { outcome: outside.outcome, domain: outside.domain },
        newRuns: runsAfter.forwardRuns + runsAfter.fullRuns - runsBefore.forwardRuns - runsBefore.fullRuns,
      };
      photo.close();
      engine.dispose();
    }
    return out;
  }, { url: fixture.modelUrl, img: imageBase64('leaf-96x72.jpg') }) as Record<'wasm' | 'webgpu', {
    backend: string;
    plain: { outcome: string; domain: { checked: boolean }; domainCheck: boolean; logits: number; features: number; manifestFeatures: number; quality: boolean };
    domainCheckAfter: boolean;
    inside: { outcome: string; domain: { checked: boolean; score: number; inDomain: boolean }; probGap: number };
    outside: { outcome: string; domain: { checked: boolean; score: number; inDomain: boolean } };
    newRuns: number;
  }>;

  for (const backend of ['wasm', 'webgpu'] as const) {
    const r = result[backend];
    expect(r.backend).toBe(backend);
    // No statistics: unchecked, and the outcome is never a refusal.
    expect(r.plain.domain).toEqual({ checked: false });
    expect(r.plain.domainCheck).toBe(false);
    expect(['sure', 'unsure']).toContain(r.plain.outcome);
    expect([r.plain.logits, r.plain.features, r.plain.quality]).toEqual([3, r.plain.manifestFeatures, true]);
    expect(r.domainCheckAfter).toBe(true);
    // The photo's own features sit on the class means: score ≈ 0, accepted; probabilities are softmax(logits / 2).
    expect(r.inside.domain.checked && r.inside.domain.inDomain).toBe(true);
    expect(r.inside.domain.score).toBeLessThan(1e-3);
    expect(r.inside.outcome).not.toBe('not-bean-leaf');
    expect(r.inside.probGap).toBeLessThan(1e-6);
    // Means at the opposite direction: far outside, refused.
    expect(r.outside.domain.checked && !r.outside.domain.inDomain).toBe(true);
    expect(r.outside.outcome).toBe('not-bean-leaf');
    expect(r.newRuns).toBe(0);
  }
  // One score, whichever backend computed the features.
  const gap = Math.abs(result.wasm.outside.domain.score - result.webgpu.outside.domain.score) / result.wasm.outside.domain.score;
  expect(gap).toBeLessThan(1e-3);
}, 240_000);
