// One request to a short-lived module worker, the protocol shared by the engine's workers (hashWorker.ts,
// int8Worker.ts): the worker posts { kind: 'ready' } once loaded, then answers one request with one reply.
// Work moved there leaves the page's main thread free while the model loads (Lighthouse's total blocking time).

export interface WorkerReady { kind: 'ready' }

/** The worker's reply, or undefined when it could not be started or never said 'ready' (no module workers, a CSP
 * without worker-src 'self'): the caller then does the work on the page. Nothing is sent before 'ready', so a
 * worker that failed to load keeps nothing that was meant to be transferred. */
export async function askWorker<Reply>(create: () => Worker, request: unknown, transfer: Transferable[] = []): Promise<Reply | undefined> {
  if (typeof Worker === 'undefined') return undefined;
  let worker: Worker;
  try {
    worker = create();
  } catch {
    return undefined;
  }
  try {
    const started = await new Promise<boolean>((resolve) => {
      worker.onmessage = (event: MessageEvent<{ kind?: string }>) => resolve(event.data?.kind === 'ready');
      worker.onerror = () => resolve(false);
    });
    if (!started) return undefined;
    return await new Promise<Reply>((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<Reply>) => resolve(event.data);
      worker.onerror = (event) => reject(new Error(`worker failed: ${event.message}`));
      worker.postMessage(request, transfer);
    });
  } finally {
    worker.terminate();
  }
}
