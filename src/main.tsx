// The entry. The app shell in index.html paints first; then the app's code (start.tsx and what it imports, a chunk
// preloaded by the HTML) is evaluated. Evaluated first, its ~0.5 MB of JS holds the shell's first paint for as long
// as it runs on a slow phone, on every visit (from the service worker's cache too). The styles stay in the entry so
// that the shell is painted with them.
import './ui/styles.css';

/** After the next frame is painted; a hidden tab paints no frames, so a timer starts the app there. */
function afterFirstPaint(): Promise<void> {
  return new Promise((resolve) => {
    requestAnimationFrame(() => setTimeout(resolve, 0));
    setTimeout(resolve, 250);
  });
}

void afterFirstPaint()
  .then(() => import('./start'))
  .catch((error: unknown) => console.error('Leaf Lens could not start', error));
