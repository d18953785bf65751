// Large model files are hashed in a worker (src/engine/model/hashOffThread.ts): the same digest as on the page,
// the bytes come back whole, the ones handed over are detached (moved, not copied), small files stay on the page.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startBrowserHarness, type BrowserHarness } from '../browser/harness';
import { openDriver } from './support';

let harness: BrowserHarness;
beforeAll(async () => { harness = await startBrowserHarness(); });
afterAll(async () => { await harness?.close(); });

const pattern = (i: number): number => (i * 2654435761) >>> 24;

test('sha256 off the main thread: same digest, bytes moved there and back, small files hashed on the page', async () => {
  const driver = await openDriver(harness);
  const size = 3 * 1024 * 1024 + 17;
  const source = `import('/src/engine/model/hashOffThread.ts').then(async (m) => {
    const make = (n) => { const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = (i * 2654435761) >>> 24; return b; };
    const big = make(${size});
    const result = await m.sha256OffMainThread(big);
    let same = result.bytes.length === ${size};
    for (let i = 0; same && i < ${size}; i += 4099) same = result.bytes[i] === ((i * 2654435761) >>> 24);
    const small = make(1000);
    const smallResult = await m.sha256OffMainThread(small);
    const part = make(${size}).subarray(5);
    const partResult = await m.sha256OffMainThread(part);
    return { hex: result.hex, bigDetached: big.byteLength === 0, same, returnedLength: result.bytes.length,
      smallHex: smallResult.hex, smallKept: smallResult.bytes === small && small.byteLength === 1000,
      partHex: partResult.hex, partKept: partResult.bytes === part && part.byteLength === ${size - 5} };
  })`;
  const result = await driver.page.evaluate(source) as Record<string, unknown>;
  await driver.close();
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = pattern(i);
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  expect(result.hex).toBe(sha(bytes));
  expect(result.bigDetached).toBe(true); // moved to the worker, not copied
  expect(result.same).toBe(true);
  expect(result.returnedLength).toBe(size);
  expect(result.smallHex).toBe(sha(bytes.subarray(0, 1000)));
  expect(result.smallKept).toBe(true);
  // A view into part of a buffer is hashed on the page: moving it would take the rest of the buffer along.
  expect(result.partHex).toBe(sha(bytes.subarray(5)));
  expect(result.partKept).toBe(true);
}, 120_000);
