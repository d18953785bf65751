// npm run device:kit [-- --check]
// Builds .work/device/ (git-ignored) from scratch: everything a GPU machine with no Node and no node_modules needs to
// run the WGSL kernel bench (`npm run bench:node -- --no-ort`) in one device call:
//   bench-node.mjs                     bench/node/deviceKitEntry.ts bundled by esbuild, WGSL `?raw` imports inlined
//   node_modules/webgpu/…              Dawn's Node binding, linux-x64 only, dawn.node xz-compressed
//   node.xz                            this Node binary, stripped and xz-compressed
//   run.sh                             scripts/device-kit-run.sh: unpacks, sets up Vulkan, runs, writes $OUT/node-dawn-<gpu>.json
// Also fetches the Vulkan loader .debs into .gl/ (the device README's recipe) when they are missing, prints the
// sizes against the device's 64 MiB working-tree limit and the exact device call.
// --check: runs the kit here as the device would, from a scratch copy with no node_modules around it (1 run).
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { appendFileSync, chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { deviceBenchBuildOptions } from '../bench/node/deviceKitBundle';

const KIT_DIR = '.work/device';
const GL_DIR = '.gl';
const WEBGPU_DIR = 'node_modules/webgpu';
const DAWN_NODE = 'dist/linux-x64/dawn.node';
/** Leaves room for a tracked tree of up to ~33 MB under the device's 64 MiB limit. */
const KIT_BUDGET_BYTES = 28 * 2 ** 20;
const DEVICE_TREE_LIMIT_BYTES = 64 * 2 ** 20;
/** The device README's list: libvulkan1 is the loader; libglvnd0 etc. back the NVIDIA ICD (libGLX_nvidia). */
const GL_PACKAGES = ['libvulkan1', 'libegl1', 'libglvnd0', 'libopengl0', 'libgl1', 'libglx0', 'libgles2'];
const DEVICE_CALL = 'run(carry: [".work/device", ".gl"], timeout_s: 180, command: "bash .work/device/run.sh")';

const { values: args } = parseArgs({ options: { check: { type: 'boolean', default: false } } });
const log = (line: string): void => console.log(`[device:kit] ${line}`);
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function runOrThrow(command: string, commandArgs: string[], options: SpawnSyncOptions = {}): void {
  const result = spawnSync(command, commandArgs, { stdio: 'inherit', ...options });
  if (result.status !== 0) throw new Error(`${command} ${commandArgs.join(' ')} failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`})`);
}

function hasCommand(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** xz -T1 -6 at low priority: the development machines are shared. */
function xzInto(source: string, target: string): void {
  runOrThrow('sh', ['-c', 'nice -n 10 xz -T1 -6 -c "$1" >"$2"', 'sh', source, target]);
}

function bytesUnder(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, name) => sum + bytesUnder(join(path, name)), 0);
}

async function bundleBench(): Promise<void> {
  const result = await build(deviceBenchBuildOptions(join(KIT_DIR, 'bench-node.mjs')));
  if (!result.metafile) throw new Error('esbuild returned no metafile');
  const shaders = Object.keys(result.metafile.inputs).filter((input) => input.startsWith('raw:')).length;
  log(`bench-node.mjs: ${Object.keys(result.metafile.inputs).length} modules, ${shaders} WGSL files inlined`);
}

/** webgpu's package.json, loader and linux-x64 binary; fails if its loader starts needing anything else. */
function copyWebgpu(): void {
  const loader = readFileSync(join(WEBGPU_DIR, 'index.js'), 'utf8');
  const specifiers = [...loader.matchAll(/\bfrom\s*['"]([^'"]+)['"]|\b(?:require|import)\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2] ?? '');
  const foreign = specifiers.filter((spec) => !spec.startsWith('node:') && !builtinModules.includes(spec));
  if (foreign.length > 0) throw new Error(`${WEBGPU_DIR}/index.js now imports ${foreign.join(', ')}: copy those into the kit too`);
  if (!loader.includes("join(__dirname, 'dist', `${process.platform}-${arch}`, 'dawn.node')")) {
    throw new Error(`${WEBGPU_DIR}/index.js no longer loads dist/<platform>-<arch>/dawn.node: check where it finds the binary`);
  }
  const target = join(KIT_DIR, WEBGPU_DIR);
  mkdirSync(join(target, dirname(DAWN_NODE)), { recursive: true });
  for (const file of ['package.json', 'index.js', 'LICENSE.md']) copyFileSync(join(WEBGPU_DIR, file), join(target, file));
  // Unstripped, so that a crash inside Dawn on the device still names its functions (costs ~0.4 MB).
  xzInto(join(WEBGPU_DIR, DAWN_NODE), join(target, `${DAWN_NODE}.xz`));
  const version = (JSON.parse(readFileSync(join(WEBGPU_DIR, 'package.json'), 'utf8')) as { version: string }).version;
  log(`webgpu ${version}: ${mib(statSync(join(WEBGPU_DIR, DAWN_NODE)).size)} dawn.node → ${mib(statSync(join(target, `${DAWN_NODE}.xz`)).size)} xz`);
}

/** This Node, without its debug info (JS stack traces do not need it), xz-compressed. */
function packNode(): void {
  const scratch = mkdtempSync(join(tmpdir(), 'device-kit-'));
  try {
    const binary = join(scratch, 'node');
    copyFileSync(process.execPath, binary);
    if (hasCommand('strip')) {
      runOrThrow('strip', ['--strip-all', binary]);
      runOrThrow(binary, ['-e', '0']);
    } else {
      log('no strip here: packing Node with its debug info (about 2 MB more once compressed)');
    }
    log(`node ${process.version}: ${mib(statSync(process.execPath).size)} → ${mib(statSync(binary).size)} stripped; compressing (about a minute)`);
    xzInto(binary, join(KIT_DIR, 'node.xz'));
    log(`node.xz: ${mib(statSync(join(KIT_DIR, 'node.xz')).size)}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The device README's recipe: the loader .debs in an excluded .gl/, fetched for amd64 whatever this machine is. */
function prepareGl(): void {
  const exclude = spawnSync('git', ['rev-parse', '--git-path', 'info/exclude'], { encoding: 'utf8' }).stdout.trim();
  if (exclude && !(existsSync(exclude) && readFileSync(exclude, 'utf8').split('\n').includes('/.gl/'))) {
    mkdirSync(dirname(exclude), { recursive: true });
    appendFileSync(exclude, '/.gl/\n');
    log(`added /.gl/ to ${exclude}`);
  }
  const present = existsSync(GL_DIR) ? readdirSync(GL_DIR).filter((name) => name.endsWith('.deb')) : [];
  const missing = GL_PACKAGES.filter((pkg) => !present.some((name) => name.startsWith(`${pkg}_`)));
  if (missing.length === 0) return;
  const recipe = [
    `mkdir -p ${GL_DIR} /tmp/amd64/partial`,
    "o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'",
    'apt-get $o update -qq',
    `(cd ${GL_DIR} && apt-get $o download ${missing.join(' ')})`,
  ].join(' && ');
  log(`fetching ${missing.join(', ')} into ${GL_DIR}/`);
  const fetched = spawnSync('bash', ['-c', recipe], { stdio: 'inherit' });
  if (fetched.status !== 0) log(`could not fetch them (apt failed); on a machine with apt, run:\n  ${recipe}`);
}

function gitListedBytes(listArgs: string[]): number {
  const listed = spawnSync('git', ['ls-files', '-z', ...listArgs], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 }).stdout;
  return listed.split('\0').filter((path) => path && existsSync(path)).reduce((sum, path) => sum + statSync(path).size, 0);
}

function reportSizes(): void {
  const kitBytes = bytesUnder(KIT_DIR);
  for (const file of ['bench-node.mjs', 'node.xz', join(WEBGPU_DIR, `${DAWN_NODE}.xz`), 'run.sh']) {
    log(`  ${file.padEnd(48)} ${mib(statSync(join(KIT_DIR, file)).size).padStart(9)}`);
  }
  log(`kit ${KIT_DIR}: ${mib(kitBytes)} (budget ${mib(KIT_BUDGET_BYTES)})`);
  if (kitBytes > KIT_BUDGET_BYTES) log('WARNING: the kit is over its budget; check what grew (Node or dawn.node)');
  const glBytes = existsSync(GL_DIR) ? bytesUnder(GL_DIR) : 0;
  const treeBytes = gitListedBytes([]) + gitListedBytes(['--others', '--exclude-standard']);
  const travelling = treeBytes + kitBytes + glBytes;
  log(`${GL_DIR}: ${mib(glBytes)}; working tree that travels: ${mib(treeBytes)}; with the kit and ${GL_DIR}: ${mib(travelling)} of ${mib(DEVICE_TREE_LIMIT_BYTES)}`);
  if (travelling > DEVICE_TREE_LIMIT_BYTES) log('WARNING: over the device limit: the call would be refused');
}

/** Runs the kit as the device would: a scratch copy of the kit alone (no node_modules above it), 1 timed run. */
function checkHere(): void {
  const scratch = mkdtempSync(join(tmpdir(), 'device-kit-check-'));
  try {
    const kitCopy = join(scratch, KIT_DIR);
    cpSync(KIT_DIR, kitCopy, { recursive: true });
    log(`check: running ${kitCopy}/run.sh --runs 1 --warmup 0`);
    runOrThrow('nice', ['-n', '10', 'bash', join(kitCopy, 'run.sh'), '--runs', '1', '--warmup', '0'], {
      env: { ...process.env, OUT: join(scratch, 'out'), GPU_NAME: 'check', NODE_PATH: '' },
      cwd: scratch,
    });
    const report = JSON.parse(readFileSync(join(scratch, 'out', 'node-dawn-check.json'), 'utf8')) as { kind: string; kernels: Record<string, unknown> };
    log(`check: ${report.kind} with ${Object.keys(report.kernels).length} kernels; OK`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (!hasCommand('xz')) throw new Error('xz is needed to build the kit (apt-get install xz-utils)');
  rmSync(KIT_DIR, { recursive: true, force: true });
  mkdirSync(KIT_DIR, { recursive: true });
  await bundleBench();
  copyWebgpu();
  packNode();
  copyFileSync('scripts/device-kit-run.sh', join(KIT_DIR, 'run.sh'));
  chmodSync(join(KIT_DIR, 'run.sh'), 0o755);
  prepareGl();
  reportSizes();
  if (args.check) checkHere();
  log('on a device machine, one call (the bench runs 50 times after 10 warm-up; the results come back in $OUT):');
  console.log(`\n  ${DEVICE_CALL}\n`);
  log('then: copy node-dawn-<gpu>.json into docs/bench/ and run npm run plot -- --node docs/bench/node-dawn-<gpu>.json');
}

main().catch((err: unknown) => { console.error(err); process.exit(1); });
