// Writes .br and .gz beside every compressible file of a build, for nginx's brotli_static / gzip_static
// (deploy/nginx.conf.template): maximum compression once at build time instead of a fast level on every request.
// Usage: tsx scripts/precompress.ts [dist]
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

const brotli = promisify(brotliCompress);
const gz = promisify(gzip);
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.webmanifest', '.wasm', '.svg', '.txt', '.md', '.onnx', '.weights']);
/** Only kept when it saves at least this fraction (fp32 weights barely compress). */
const MIN_SAVING = 0.05;

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile() && COMPRESSIBLE.has(extname(entry.name)) && statSync(path).size >= 512) yield path;
  }
}

export async function precompress(dir: string, log: (line: string) => void = () => {}): Promise<{ files: number; raw: number; br: number; gz: number }> {
  const totals = { files: 0, raw: 0, br: 0, gz: 0 };
  for (const path of files(resolve(dir))) {
    const raw = readFileSync(path);
    // Brotli's top quality costs minutes on tens of MB of binaries; level 9 keeps nearly all the gain there.
    const quality = raw.byteLength > 4 << 20 ? 9 : 11;
    const [br, gzipped] = await Promise.all([
      brotli(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: quality, [constants.BROTLI_PARAM_SIZE_HINT]: raw.byteLength } }),
      gz(raw, { level: 9 }),
    ]);
    totals.files += 1;
    totals.raw += raw.byteLength;
    for (const [ext, data] of [['.br', br], ['.gz', gzipped]] as const) {
      if (data.byteLength <= raw.byteLength * (1 - MIN_SAVING)) {
        writeFileSync(path + ext, data);
        totals[ext === '.br' ? 'br' : 'gz'] += data.byteLength;
      } else {
        totals[ext === '.br' ? 'br' : 'gz'] += raw.byteLength;
      }
    }
  }
  const mb = (n: number) => (n / 1e6).toFixed(1);
  log(`precompressed ${totals.files} files: ${mb(totals.raw)} MB raw → ${mb(totals.br)} MB brotli, ${mb(totals.gz)} MB gzip`);
  return totals;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const started = Date.now();
  precompress(process.argv[2] ?? 'dist', (line) => console.log(`${line} (${((Date.now() - started) / 1000).toFixed(1)} s)`)).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
