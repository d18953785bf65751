// How the device kit's bench bundle is built (scripts/device-kit.ts; checked by test/bench/deviceKitBundle.test.ts):
// bench/node/deviceKitEntry.ts with Vite's `?raw` WGSL imports inlined as strings and `webgpu` left to the kit's copy.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
// esbuild comes with tsx (and vite): no dependency of our own.
import type { BuildOptions, Plugin } from 'esbuild';

/** Vite's `?raw` imports as esbuild text modules: the same file contents the app gets. */
export const rawImports: Plugin = {
  name: 'raw-imports',
  setup(esbuild) {
    esbuild.onResolve({ filter: /\?raw$/ }, (found) => ({ path: resolve(found.resolveDir, found.path.slice(0, -'?raw'.length)), namespace: 'raw' }));
    esbuild.onLoad({ filter: /.*/, namespace: 'raw' }, (found) => ({ contents: readFileSync(found.path, 'utf8'), loader: 'text', watchFiles: [found.path] }));
  },
};

export function deviceBenchBuildOptions(outfile: string): BuildOptions {
  return {
    entryPoints: ['bench/node/deviceKitEntry.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: `node${process.versions.node.split('.')[0]}`,
    external: ['webgpu'],
    plugins: [rawImports],
    banner: { js: '// Built by npm run device:kit from bench/node/deviceKitEntry.ts; do not edit.' },
    logLevel: 'warning',
    metafile: true,
  };
}
