// The device kit's bench bundle (npm run device:kit): `?raw` WGSL imports become the files' exact text, every
// shader is inlined, and nothing outside the bundle is needed but `webgpu` (the kit's own copy) and Node built-ins.
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { build } from 'esbuild';
import { expect, test } from 'vitest';
import { deviceBenchBuildOptions, rawImports } from '../../tools/device/bundle';

const shaderFiles = readdirSync('shaders').filter((name) => name.endsWith('.wgsl')).sort();

test('?raw imports bundle to the exact file text', async () => {
  const entry = shaderFiles.map((name, i) => `export { default as shader${i} } from './shaders/${name}?raw';`).join('\n');
  const result = await build({
    stdin: { contents: entry, resolveDir: process.cwd(), loader: 'js' },
    bundle: true, format: 'esm', platform: 'node', write: false, plugins: [rawImports], logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.text;
  const bundled = (await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`)) as Record<string, string>;
  shaderFiles.forEach((name, i) => expect(bundled[`shader${i}`], name).toBe(readFileSync(`shaders/${name}`, 'utf8')));
});

test('the device bench inlines every shader and leaves only webgpu and Node built-ins outside', async () => {
  const result = await build({ ...deviceBenchBuildOptions('bench-node.mjs'), write: false });
  const inlined = Object.keys(result.metafile?.inputs ?? {}).filter((input) => input.startsWith('raw:')).map((input) => input.split('/').pop()).sort();
  expect(inlined).toEqual(shaderFiles);
  expect(result.outputFiles?.[0]?.text).not.toContain('?raw');
  const outside = Object.values(result.metafile?.outputs ?? {}).flatMap((output) => output.imports.filter((i) => i.external).map((i) => i.path));
  expect(outside).toContain('webgpu');
  expect(outside.filter((path) => path !== 'webgpu' && !path.startsWith('node:') && !builtinModules.includes(path))).toEqual([]);
}, 60_000);

test('the device onnxruntime step leaves only onnxruntime-node (and the unused onnxruntime-web) outside', async () => {
  const result = await build({ ...deviceBenchBuildOptions('bench-ort.mjs', 'bench-ort.mjs'), write: false });
  const outside = Object.values(result.metafile?.outputs ?? {}).flatMap((output) => output.imports.filter((i) => i.external).map((i) => i.path));
  expect(outside).toContain('onnxruntime-node');
  expect(outside.filter((path) => !path.startsWith('onnxruntime-') && !path.startsWith('node:') && !builtinModules.includes(path))).toEqual([]);
  expect(Object.keys(result.metafile?.inputs ?? {})).toContain('bench/node/ort.ts');
}, 60_000);
