// How the device kit's bundles are built (tools/device/build-kit.ts; checked by test/device/bundle.test.ts):
// bench-node.mjs: tools/device/kernelEntry.ts with Vite's `?raw` WGSL imports inlined as strings and `webgpu` left
// to the kit's copy; bench-ort.mjs (with --ort): tools/device/ortEntry.ts with `onnxruntime-node` left to the
// kit's copy.
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

/** Each bundle's entry and the packages it loads from the kit's node_modules (not bundled). */
export const DEVICE_KIT_BUNDLES = {
  'bench-node.mjs': { entry: 'tools/device/kernelEntry.ts', external: ['webgpu'] },
  // ort.ts also holds the onnxruntime-web attempt (import of onnxruntime-web/webgpu); the kit never calls it.
  'bench-ort.mjs': { entry: 'tools/device/ortEntry.ts', external: ['onnxruntime-node', 'onnxruntime-web', 'onnxruntime-web/webgpu'] },
} as const;
export type DeviceKitBundle = keyof typeof DEVICE_KIT_BUNDLES;

export function deviceBenchBuildOptions(outfile: string, bundle: DeviceKitBundle = 'bench-node.mjs'): BuildOptions {
  const { entry, external } = DEVICE_KIT_BUNDLES[bundle];
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: `node${process.versions.node.split('.')[0]}`,
    external: [...external],
    plugins: [rawImports],
    banner: { js: `// Built by npm run device:kit from ${entry}; do not edit.` },
    logLevel: 'warning',
    metafile: true,
  };
}
