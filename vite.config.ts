import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import { RUNTIME_CACHE } from './src/engine/model/runtimeCache';

// Cross-origin isolation lets onnxruntime-web's WASM backend use threads (SharedArrayBuffer).
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

// Offline PWA (issue 4): Workbox precaches the app shell; the model files are kept by the
// engine's own sha256-verified cache (src/engine/model/fetcher.ts) as they load. Precaching models/ too
// would download every precision and every model folder on a first visit (fp32 + fp16 + test fixtures:
// ~35 MB on top of the ~22 MB the phone actually loads) and store the weights twice.
// ORT's binaries are not precached either: a device needs only one of its two builds (WASM-only, 14 MB, or
// WebGPU, 27 MB), which the page stores in RUNTIME_CACHE as it loads it (src/engine/model/ort.ts); the route
// below serves that cache. Their small JS glue files (tens of kB) are precached: ORT imports them by URL, also
// from its proxy worker, and the precache is what such an import finds offline.
// Updates are offered ('prompt'), never forced.
const pwa = VitePWA({
  registerType: 'prompt',
  injectRegister: false,
  includeAssets: ['icons/*.png', 'icons/icon.svg', 'samples/*.jpg'],
  manifest: {
    name: 'Leaf Lens — bean leaf check',
    short_name: 'Leaf Lens',
    description: 'Diagnoses bean-leaf photos on the phone, offline, and shows where the model looked.',
    theme_color: '#1d5e2f',
    background_color: '#f4f7f1',
    display: 'standalone',
    orientation: 'portrait',
    start_url: './',
    scope: './',
    icons: [
      { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png' },
      { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png' },
      { src: 'icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
      { src: 'icons/icon.svg', sizes: 'any', type: 'image/svg+xml' },
    ],
  },
  workbox: {
    globPatterns: ['**/*.{js,mjs,css,html,svg,png,jpg,ico,wasm,json,webmanifest}'],
    globIgnores: ['models/**', '**/ort-wasm-simd-threaded*.wasm'],
    runtimeCaching: [{
      urlPattern: /\/assets\/ort-wasm-simd-threaded[^/]*\.wasm$/,
      handler: 'CacheFirst',
      options: { cacheName: RUNTIME_CACHE },
    }],
    navigateFallback: 'index.html',
    cleanupOutdatedCaches: true,
  },
  devOptions: { enabled: false },
});

export default defineConfig({
  base: './',
  plugins: [react(), pwa],
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
  build: {
    target: 'es2022',
    rolldownOptions: {
      // ORT's WASM build as an entry of its own: ORT starts its proxy worker from its module's URL, and a module
      // that imported the app's entry chunk (for the bundler's helpers) would run the whole app in the worker.
      input: { index: 'index.html', 'ort-wasm': 'onnxruntime-web/wasm' },
      preserveEntrySignatures: 'exports-only',
    },
  },
});
