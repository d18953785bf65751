// The open-set rule over intermediate blocks through the engine's public API, on WASM and WebGPU (SwiftShader here):
// every diagnosis carries the graph's layer_features (same values on both backends); a head whose layer_statistics
// centre on this photo's own rows accepts it, one centred on the opposite direction refuses it as not-bean-leaf,
// with the layer rule's score and threshold (not the CLS rule's) and the same score on both backends.
import { expect, test } from 'vitest';
import { fixtureDriverPerFile, imageBase64 } from './support';

const fixture = fixtureDriverPerFile();

test('layer_features and the layer open-set rule on WASM and WebGPU', async () => {
  const result = await fixture.driver.page.evaluate(async ({ url, img }) => {
    const api = window.leafLens;
    const blob = new Blob([Uint8Array.from(atob(img), (c) => c.charCodeAt(0))], { type: 'image/jpeg' });
    const headJson = await (await fetch(`${url}head.json`)).json() as Record<string, unknown> & { labels: string[]; features: number };
    const manifest = await (await fetch(`${url}manifest.json`)).json() as { layers: number; embed_dim: number };
    const L = manifest.layers, D = manifest.embed_dim;
    const b64 = (values: number[]) => {
      const bytes = new Uint8Array(4 * values.length);
      const view = new DataView(bytes.buffer);
      values.forEach((v, i) => view.setFloat32(4 * i, v, true));
      return btoa(String.fromCharCode(...bytes));
    };
    const out: Record<string, unknown> = {};
    for (const backend of ['wasm', 'webgpu'] as const) {
      const engine = await api.createEngine(url, { backend, modelCache: api.memoryFileCache() });
      const photo = await engine.loadPhoto(blob);
      const plain = await engine.diagnose(photo, { method: 'attention' });
      const layerFeatures = Array.from(plain.layerFeatures ?? []);
      const rowOf = (r: number) => { const x = layerFeatures.slice(r * D, (r + 1) * D); const n = Math.hypot(...x); return x.map((v) => v / n); };
      const rows = [1, 2 * L - 1];
      // Each chosen row's Gaussian at this photo's own (or the opposite) direction, covariance 0.01·I (the scatter is
      // already isotropic, so full shrinkage, which the contract's λ in (0, 1] allows, changes nothing).
      const upperIdentity = (scale: number) => { const u: number[] = []; for (let a = 0; a < D; a++) for (let b = a; b < D; b++) u.push(a === b ? scale : 0); return u; };
      const withLayers = (sign: number) => ({
        ...headJson,
        layer_statistics: {
          feature_norm: 'l2', score: 'layer_fisher', layers: L, threshold: 20,
          rows: rows.map((row) => ({ row, count: 11, shrinkage: 1, mean: b64(rowOf(row).map((v) => sign * v)), scatter_upper: b64(upperIdentity(0.01 * 10)), log_d2_mean: 0, log_d2_sd: 1 })),
        },
      });
      await engine.setHead(withLayers(1), 'centred.json');
      const inside = await engine.diagnose(photo, { method: 'attention' });
      await engine.setHead(withLayers(-1), 'elsewhere.json');
      const outside = await engine.diagnose(photo, { method: 'relevance' });
      out[backend] = {
        backend: engine.backend, layerFeatures, length: layerFeatures.length, expected: 2 * L * D, domainCheck: engine.model.domainCheck,
        inside: { outcome: inside.outcome, domain: inside.domain },
        outside: { outcome: outside.outcome, domain: outside.domain, layers: (outside.layerFeatures ?? []).length },
      };
      photo.close();
      engine.dispose();
    }
    return out;
  }, { url: fixture.modelUrl, img: imageBase64('leaf-96x72.jpg') }) as Record<'wasm' | 'webgpu', {
    backend: string; layerFeatures: number[]; length: number; expected: number; domainCheck: boolean;
    inside: { outcome: string; domain: { checked: boolean; score: number; threshold: number; inDomain: boolean } };
    outside: { outcome: string; domain: { checked: boolean; score: number; threshold: number; inDomain: boolean }; layers: number };
  }>;

  for (const backend of ['wasm', 'webgpu'] as const) {
    const r = result[backend];
    expect(r.backend).toBe(backend);
    expect(r.length).toBe(r.expected);
    expect(r.domainCheck).toBe(true);
    // At its own rows: d² = 0 → p ≈ 1 → S ≈ 0, accepted by the layer rule (threshold 20, the head has no CLS rule).
    expect(r.inside.domain).toMatchObject({ checked: true, threshold: 20, inDomain: true });
    expect(r.inside.domain.score).toBeLessThan(1e-3);
    expect(r.inside.outcome).not.toBe('not-bean-leaf');
    // Opposite direction: d² = 4/0.01 per row, far outside: refused; the full graph (relevance) returns the rows too.
    expect(r.outside.domain).toMatchObject({ checked: true, threshold: 20, inDomain: false });
    expect(r.outside.outcome).toBe('not-bean-leaf');
    expect(r.outside.layers).toBe(r.expected);
  }
  // The graph output agrees across backends (WebGPU runs fp32 graphs on SwiftShader), and so does the score.
  let diff = 0, scale = 0;
  result.wasm.layerFeatures.forEach((v, i) => { diff = Math.max(diff, Math.abs(v - result.webgpu.layerFeatures[i]!)); scale = Math.max(scale, Math.abs(v)); });
  expect(scale).toBeGreaterThan(0);
  expect(diff / scale).toBeLessThan(1e-3);
  const gap = Math.abs(result.wasm.outside.domain.score - result.webgpu.outside.domain.score) / result.wasm.outside.domain.score;
  expect(gap).toBeLessThan(1e-3);
}, 240_000);
