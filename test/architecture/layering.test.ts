// The engine knows nothing of React or of the store; the UI never talks to ORT or the GPU directly.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|tsx)$/.test(name) ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)]
    .map((m) => m[1] ?? m[2] ?? '');
}

test('engine files import neither React nor the UI/store layers', () => {
  const offenders = sourceFiles('src/engine').flatMap((file) =>
    importsOf(file)
      .filter((spec) => /^react(-dom)?(\/|$)|zustand|@tanstack|\/ui\/|\/store\//.test(spec))
      .map((spec) => `${file} imports ${spec}`),
  );
  expect(offenders).toEqual([]);
  expect(sourceFiles('src/engine').length).toBeGreaterThan(0);
});

test('UI and store reach the engine only through src/engine/index.ts', () => {
  const uiFiles = ['src/ui', 'src/store'].flatMap((dir) => {
    try { return sourceFiles(dir); } catch { return []; }
  });
  const offenders = uiFiles.flatMap((file) =>
    importsOf(file)
      .filter((spec) => /onnxruntime|\/engine\/(?!index(\.ts)?$|types(\.ts)?$)/.test(spec))
      .map((spec) => `${file} imports ${spec}`),
  );
  expect(offenders).toEqual([]);
});

test('tests write screenshots only through screenshotPath (an ignored folder unless `npm run screenshots`)', () => {
  const offenders = sourceFiles('test').flatMap((file) => {
    const text = readFileSync(file, 'utf8');
    return [...text.matchAll(/screenshot\(\s*\{[^}]*?path:\s*([^,}]+)/g)]
      .filter((m) => !m[1]!.trim().startsWith('screenshotPath('))
      .map((m) => `${file}: path ${m[1]!.trim()}`);
  });
  expect(offenders).toEqual([]);
  expect(readFileSync('test/e2e/helpers.ts', 'utf8')).toMatch(/LEAF_LENS_SCREENSHOTS \?\? join\('\.work'/);
});

test("state is written through slice actions: no setState outside the store's reset", () => {
  const files = ['src/ui', 'src/store'].flatMap((dir) => sourceFiles(dir)).filter((f) => !f.endsWith(join('store', 'index.ts')));
  const offenders = files.filter((file) => /\bsetState\s*\(/.test(readFileSync(file, 'utf8')));
  expect(offenders).toEqual([]);
});

test('one preference store: only src/store/preferences.ts touches localStorage or sessionStorage', () => {
  const files = sourceFiles('src').filter((f) => !f.endsWith(join('store', 'preferences.ts')));
  const offenders = files.filter((file) => /\b(localStorage|sessionStorage)\b/.test(readFileSync(file, 'utf8')));
  expect(offenders).toEqual([]);
});

// bench/, scripts/ and tools/ measure the engine as the app uses it: through its public API, src/engine/index.ts
// (engineStages for a diagnosis stage by stage, GpuKernels for the WGSL kernels, modelInput, decodePhoto). kernels.ts is
// the kernel part of that API, which index.ts re-exports: the Dawn bench imports it alone because the device kit
// bundles that bench for Node without onnxruntime-web. Besides, PURE_REFERENCE modules are deterministic functions with
// no backend, device or session behind them, which an evaluation must call rather than copy, so that it scores the very
// rule or maths the app runs — the CPU reference maths of the explanation methods and the defaults and validation of
// their options, softmax/argmax, the sure/unsure/not-a-leaf rule, the field-check combination, the teaching maths, the
// photo-quality rule, and the readers and writers of the written model contract (manifest, head.json, graph I/O names
// and the graph feeds, the int8 file format), and the method table. Node scripts (tsx) cannot load the index at all: it
// pulls the WGSL kernels in through Vite. `types` is allowed as it is for the UI: declarations only.
const PUBLIC_API = new Set(['index', 'kernels']);
const PURE_REFERENCE = new Set([
  'types', 'explain/methods', 'explain/options', 'explain/reference', 'model/logits', 'model/domain', 'model/group', 'model/teach',
  'image/quality', 'model/contract', 'model/manifest', 'model/head', 'model/int8', 'model/feeds', 'model/layers',
]);

test('bench/, scripts/ and tools/ reach the engine only through its public API and pure references', () => {
  const files = ['bench', 'scripts', 'tools'].flatMap((dir) => sourceFiles(dir));
  const internal = files.flatMap((file) =>
    importsOf(file).flatMap((spec) => {
      const module = /src\/engine\/(.+?)(?:\.ts)?$/.exec(spec)?.[1];
      if (!module || PUBLIC_API.has(module) || PURE_REFERENCE.has(module)) return [];
      return [`${file.split('\\').join('/')} → ${module}`];
    }));
  expect([...new Set(internal)].sort()).toEqual([]);
  // The check sees the benches' imports at all: the stage bench reaches the engine through the index.
  expect(importsOf(join('bench', 'browser', 'stages.ts'))).toContain('../../src/engine/index');
  // kernels.ts is public only as part of the index.
  expect(importsOf(join('src', 'engine', 'index.ts'))).toContain('./kernels');
});

test('pure references stay pure: none of them imports a backend, a device, a session or a kernel', () => {
  const offenders = [...PURE_REFERENCE].flatMap((module) => {
    const file = join('src', 'engine', `${module}.ts`);
    return importsOf(file)
      .filter((spec) => /onnxruntime|\/gpu\/|session|runtime|\?raw|gpuExplainer|gpuHeatmapRenderer|\/ort$/.test(spec))
      .map((spec) => `${file} imports ${spec}`);
  });
  expect(offenders).toEqual([]);
});
