// Synthetic saved diagnoses in the schema-1 layout (one record per entry, its photo a JPEG data URL of about
// 20 KB, like entries real phones hold), written straight into IndexedDB from a page of the app's origin before
// the app opens it. Shared by the history bench and the history e2e tests.
// Run in the page as a string, so tsx's helpers do not leak in. Resolves the photo's size and the count per class.
export function seedV1Script(count: number): string {
  return `(async () => {
    const count = ${count};
    // One realistic thumbnail: noisy leaf-green 256² JPEG at quality 0.8 (about 20 KB as a data URL).
    const canvas = document.createElement('canvas');
    canvas.width = 256; canvas.height = 256;
    const ctx = canvas.getContext('2d');
    const img = ctx.createImageData(256, 256);
    let s = 12345;
    const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296);
    for (let i = 0; i < img.data.length; i += 4) {
      const x = (i / 4) % 256, y = Math.floor(i / 1024);
      const v = 0.5 + 0.3 * Math.sin(x / 9) * Math.cos(y / 7) + rnd() * 0.3;
      img.data[i] = 30 + v * 60; img.data[i + 1] = 90 + v * 120; img.data[i + 2] = 30 + rnd() * 50; img.data[i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    const thumbnail = canvas.toDataURL('image/jpeg', 0.8);
    const db = await new Promise((res, rej) => {
      const r = indexedDB.open('leaf-lens', 1);
      r.onupgradeneeded = () => {
        const d = r.result;
        const store = d.createObjectStore('diagnoses', { keyPath: 'id', autoIncrement: true });
        store.createIndex('createdAt', 'createdAt');
        d.createObjectStore('settings');
      };
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
    const labels = ['angular_leaf_spot', 'bean_rust', 'healthy'];
    const perLabel = { angular_leaf_spot: 0, bean_rust: 0, healthy: 0 };
    const start = Date.parse('2026-03-02T07:00:00Z');
    const season = 26 * 7 * 86400000;
    for (let done = 0; done < count; ) {
      const n = Math.min(500, count - done);
      await new Promise((res, rej) => {
        const tx = db.transaction('diagnoses', 'readwrite');
        const store = tx.objectStore('diagnoses');
        for (let k = 0; k < n; k++) {
          const i = done + k;
          const top = Math.floor(rnd() * 3);
          perLabel[labels[top]]++;
          const p = [0.1, 0.1, 0.1]; p[top] = 0.8;
          store.add({
            createdAt: new Date(start + Math.floor(season * i / count)).toISOString(),
            thumbnail, modelName: 'deit-tiny-beans', modelVersion: '1.0.0', modelTrained: true, modelValAccuracy: 0.908,
            labels, probabilities: p, top, explainedClass: top, method: 'relevance', startLayer: 0, headFusion: 'mean',
            discardRatio: 0,
            heatmap: { gridSize: 14, values: Array.from({ length: 196 }, () => Math.round(rnd() * 1000) / 1000), min: 0, max: 1 },
            ...(i % 7 === 0 ? { note: 'plot ' + (i % 5) } : {}),
          });
        }
        tx.oncomplete = () => res(undefined);
        tx.onerror = () => rej(tx.error);
      });
      done += n;
    }
    db.close();
    return { thumbnailChars: thumbnail.length, perLabel };
  })()`;
}
