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
