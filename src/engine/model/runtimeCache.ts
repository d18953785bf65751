// The Cache API cache that holds onnxruntime-web's glue and binary: written by the page (ort.ts), served offline
// by the service worker's runtime route (vite.config.ts). Its own module so the build config can import it.
export const RUNTIME_CACHE = 'leaf-lens-ort-runtime';
