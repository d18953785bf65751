// Runs nginx (Debian's /usr/sbin/nginx) on a built dist/ with deploy/nginx.conf.template: unprivileged paths only
// (a temporary prefix for pid, logs and temp files), no system config, in the foreground. Used by `npm run serve`,
// the cold-start benchmark and the production e2e test.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const NGINX_PATH = process.env.NGINX ?? '/usr/sbin/nginx';
const TEMPLATE = resolve(import.meta.dirname, 'nginx.conf.template');
const MODULE_DIR = '/usr/lib/nginx/modules';
// Debian's libnginx-mod-http-brotli-filter / -static; without them nginx serves gzip only.
const BROTLI_MODULES = ['ngx_http_brotli_filter_module.so', 'ngx_http_brotli_static_module.so'];
const COMPRESSIBLE_TYPES = 'text/css text/javascript application/json application/manifest+json application/wasm image/svg+xml text/plain text/markdown application/octet-stream';

export interface NginxConfigOptions {
  /** Absolute path of the built app (the folder with index.html). */
  root: string;
  /** nginx `listen` value: a port, or host:port. */
  listen: string;
  /** Folder for the pid file, error log and temp files. */
  prefix: string;
  accessLog: string;
  /** Load and use the brotli modules (default: when Debian's modules are installed). */
  brotli?: boolean;
  /** `user` for the worker processes; only meaningful when nginx starts as root. */
  user?: string;
  /** Leave out every add_header line: what a static host that cannot set headers serves (measured in the bench). */
  plainHost?: boolean;
}

export function brotliModulesInstalled(): boolean {
  return BROTLI_MODULES.every((m) => existsSync(join(MODULE_DIR, m)));
}

export function nginxConfig(options: NginxConfigOptions): string {
  const brotli = options.brotli ?? brotliModulesInstalled();
  const fields: Record<string, string> = {
    ROOT: resolve(options.root),
    LISTEN: options.listen,
    PREFIX: options.prefix,
    ACCESS_LOG: options.accessLog,
    USER: options.user ? `user ${options.user};` : '# user: the one that starts nginx',
    LOAD_MODULES: brotli ? BROTLI_MODULES.map((m) => `load_module ${join(MODULE_DIR, m)};`).join('\n') : '# brotli: Debian modules not installed (apt-get install libnginx-mod-http-brotli-filter libnginx-mod-http-brotli-static)',
    BROTLI: brotli
      ? `  brotli on;\n  brotli_static on;\n  brotli_comp_level 5;\n  brotli_min_length 512;\n  brotli_types ${COMPRESSIBLE_TYPES};`
      : '  # brotli: modules not installed, gzip only',
  };
  const config = readFileSync(TEMPLATE, 'utf8').replace(/\{\{([A-Z_]+)\}\}/g, (_, key: string) => {
    const value = fields[key];
    if (value === undefined) throw new Error(`nginx.conf.template: unknown field {{${key}}}`);
    return value;
  });
  return options.plainHost ? config.split('\n').filter((line) => !/^\s*add_header\s/.test(line)).join('\n') : config;
}

/** One response as nginx logged it (log_format leaf_wire). */
export interface WireLogEntry {
  t: number;
  status: number;
  bytes_sent: number;
  body_bytes_sent: number;
  uri: string;
  encoding: string;
  ua: string;
}

export interface NginxServer {
  url: string;
  port: number;
  prefix: string;
  accessLog: string;
  brotli: boolean;
  /** Every response logged so far (nginx writes each line when the response is finished). */
  readAccessLog(): WireLogEntry[];
  stop(): Promise<void>;
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      probe.close(() => (address && typeof address === 'object' ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitUntilServing(url: string, child: ChildProcess, errorLog: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const response = await fetch(url, { method: 'HEAD' });
      if (response.status > 0) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  const log = existsSync(errorLog) ? readFileSync(errorLog, 'utf8').trim().split('\n').slice(-5).join('\n') : '';
  throw new Error(`nginx did not start (exit ${child.exitCode}): ${log}`);
}

export async function startNginx(options: { root: string; port?: number; host?: string; brotli?: boolean; plainHost?: boolean; log?: (line: string) => void }): Promise<NginxServer> {
  const root = resolve(options.root);
  if (!existsSync(join(root, 'index.html'))) throw new Error(`${root} has no index.html: build the app first (npm run build)`);
  if (!existsSync(NGINX_PATH)) throw new Error(`${NGINX_PATH} not found: apt-get install nginx (or set NGINX=/path/to/nginx)`);
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? await freePort(host);
  const prefix = mkdtempSync(join(tmpdir(), 'leaf-lens-nginx-'));
  mkdirSync(join(prefix, 'tmp'), { recursive: true });
  const accessLog = join(prefix, 'access.log');
  const errorLog = join(prefix, 'error.log');
  const brotli = options.brotli ?? brotliModulesInstalled();
  const confPath = join(prefix, 'nginx.conf');
  // Started as root (containers, CI), nginx would hand requests to `nobody`, who cannot read a build in a private
  // temp folder; this server listens on a local address only, so its workers keep the starting user.
  const user = process.getuid?.() === 0 ? 'root' : undefined;
  writeFileSync(confPath, nginxConfig({ root, listen: `${host}:${port}`, prefix, accessLog, brotli, user, plainHost: options.plainHost }));
  writeFileSync(accessLog, '');
  // -e: the error log before the config is read, so nginx never touches /var/log; daemon off: this process owns it.
  const child = spawn(NGINX_PATH, ['-p', prefix, '-e', errorLog, '-c', confPath, '-g', 'daemon off;'], { stdio: ['ignore', 'inherit', 'inherit'] });
  const url = `http://${host}:${port}/`;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    await waitUntilServing(url, child, errorLog);
  } catch (error) {
    child.kill('SIGTERM');
    rmSync(prefix, { recursive: true, force: true });
    throw error;
  }
  options.log?.(`nginx ${url} serving ${root} (${brotli ? 'brotli + gzip' : 'gzip'}${options.plainHost ? ', no headers: a plain static host' : ''}; prefix ${prefix})`);
  return {
    url,
    port,
    prefix,
    accessLog,
    brotli,
    readAccessLog: () => readFileSync(accessLog, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as WireLogEntry),
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGQUIT'); // graceful: finishes the log lines
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}
