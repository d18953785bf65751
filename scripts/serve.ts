// npm run serve [-- --root dist --port 8080 --host 127.0.0.1 --no-brotli]   serves a finished build with nginx
// npm run serve -- --print-config --root /srv/leaf-lens --listen 80            prints the config for a real server
// Builds nothing: run `npm run build` first (it also writes the .br/.gz files nginx serves as they are).
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { nginxConfig, startNginx } from '../deploy/nginx';

const { values: args } = parseArgs({
  options: {
    root: { type: 'string', default: 'dist' },
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    'no-brotli': { type: 'boolean', default: false },
    'print-config': { type: 'boolean', default: false },
    listen: { type: 'string', default: '80' },
    prefix: { type: 'string', default: '/var/lib/leaf-lens-nginx' },
    'access-log': { type: 'string', default: '/var/log/nginx/leaf-lens.access.log' },
    user: { type: 'string', default: 'www-data' },
  },
});

async function main(): Promise<void> {
  const brotli = args['no-brotli'] ? false : undefined;
  if (args['print-config']) {
    process.stdout.write(nginxConfig({ root: resolve(args.root), listen: args.listen, prefix: args.prefix, accessLog: args['access-log'], brotli, user: args.user }));
    return;
  }
  mkdirSync(resolve(args.root), { recursive: true });
  const server = await startNginx({ root: args.root, host: args.host, port: args.port ? Number(args.port) : undefined, brotli, log: console.log });
  console.log(`Leaf Lens: ${server.url}  (Ctrl-C stops; access log ${server.accessLog})`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void server.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
