// npm run device:kit [-- --ort] [-- --check]
// Builds .work/device/ (git-ignored) from scratch: everything a GPU machine with no Node and no node_modules needs to
// run the WGSL kernel bench (`npm run bench:node -- --no-ort`) in one device call:
//   bench-node.mjs                     tools/device/kernelEntry.ts bundled by esbuild, WGSL `?raw` imports inlined
//   node_modules/webgpu/…              Dawn's Node binding, linux-x64 only, dawn.node xz-compressed
//   node.xz                            this Node binary, stripped and xz-compressed
//   run.sh                             tools/device/run.sh: unpacks, sets up Vulkan, runs, writes $OUT/node-dawn-<gpu>.json
// With --ort (12 MiB more), the same call also times the model with onnxruntime-node's native WebGPU EP:
//   bench-ort.mjs                      tools/device/ortEntry.ts bundled, `onnxruntime-node` external
//   node_modules/onnxruntime-node/…    its JS, linux-x64 binding and libonnxruntime.so.1 (xz-compressed)
//   node_modules/onnxruntime-common/…  its CommonJS build
// Also fetches the Vulkan loader .debs into .gl/ (the device README's recipe) when they are missing, prints the
// sizes against the device's 64 MiB working-tree limit and the exact device call.
// --check: runs the kit here as the device would, from a scratch copy with no node_modules around it (1 run; with
// --ort, onnxruntime on the small fixture model, both precisions: on SwiftShader that takes a few minutes).
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { appendFileSync, chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import type { NodeBenchReport, OrtInNodeReport } from '../../bench/lib/report';
import { SWIFTSHADER_ICD } from '../../bench/node/dawnKernelBench';
import { deviceBenchBuildOptions, type DeviceKitBundle } from './bundle';
import { ortResultLine } from './ortResults';

const KIT_DIR = '.work/device';
const GL_DIR = '.gl';
const WEBGPU_DIR = 'node_modules/webgpu';
const DAWN_NODE = 'dist/linux-x64/dawn.node';
const ORT_DIR = 'node_modules/onnxruntime-node';
const ORT_COMMON_DIR = 'node_modules/onnxruntime-common';
const ORT_BIN = 'bin/napi-v6/linux/x64';
const ORT_LIB = `${ORT_BIN}/libonnxruntime.so.1`;
const ORT_BINDING = `${ORT_BIN}/onnxruntime_binding.node`;
/** What --check times onnxruntime on: the small fixture (a 3-layer DeiT, fp32 and fp16); SwiftShader is slow. */
const CHECK_MODEL_DIR = 'public/models/fixture-deit-micro';
const DEVICE_TREE_LIMIT_BYTES = 64 * 2 ** 20;
/** The device README's list: libvulkan1 is the loader; libglvnd0 etc. back the NVIDIA ICD (libGLX_nvidia). */
const GL_PACKAGES = ['libvulkan1', 'libegl1', 'libglvnd0', 'libopengl0', 'libgl1', 'libglx0', 'libgles2'];
// The same call with or without --ort (run.sh times onnxruntime when the kit has it; fp32 by default: with the
// 38 MiB kit, the model's 21.9 MiB of fp32 files leave 3.5 MiB for the rest of the tree).
const DEVICE_CALL = 'run(carry: [".work/device", ".gl"], timeout_s: 180, command: "bash .work/device/run.sh")';

const { values: args } = parseArgs({
  options: { check: { type: 'boolean', default: false }, ort: { type: 'boolean', default: false } },
});
/** Leaves room for a tracked tree of up to ~33 MB (without --ort) or ~21 MB (with) under the device's 64 MiB limit. */
const KIT_BUDGET_BYTES = (args.ort ? 40 : 28) * 2 ** 20;
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

async function bundleBench(bundle: DeviceKitBundle): Promise<void> {
  const result = await build(deviceBenchBuildOptions(join(KIT_DIR, bundle), bundle));
  if (!result.metafile) throw new Error('esbuild returned no metafile');
  const shaders = Object.keys(result.metafile.inputs).filter((input) => input.startsWith('raw:')).length;
  log(`${bundle}: ${Object.keys(result.metafile.inputs).length} modules, ${shaders} WGSL files inlined`);
}

/** Fails if a file copied into the kit imports anything but Node built-ins, the `allowed` packages and (where its
 * folder is copied whole) its own relative files. */
function checkImports(file: string, allowed: string[], relative: boolean): void {
  const code = readFileSync(file, 'utf8');
  const specifiers = [...code.matchAll(/\bfrom\s*['"]([^'"]+)['"]|\b(?:require|import)\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2] ?? '');
  const foreign = specifiers.filter((spec) => !(relative && spec.startsWith('.')) && !spec.startsWith('node:') && !builtinModules.includes(spec) && !allowed.includes(spec));
  if (foreign.length > 0) throw new Error(`${file} now imports ${foreign.join(', ')}: copy those into the kit too`);
}

/** onnxruntime-node's JS (CommonJS, no source maps or types), its linux-x64 binding, libonnxruntime.so.1 xz-compressed
 * (run.sh unpacks it beside the binding, whose RUNPATH is $ORIGIN), and onnxruntime-common's CommonJS build. */
function copyOrtNode(): void {
  const binding = readFileSync(join(ORT_DIR, 'dist/binding.js'), 'utf8');
  if (!binding.includes('../bin/napi-v6/${process.platform}/${process.arch}/onnxruntime_binding.node')) {
    throw new Error(`${ORT_DIR}/dist/binding.js no longer loads bin/napi-v6/<platform>/<arch>/onnxruntime_binding.node: check where it finds the binary`);
  }
  const copyJs = (pkg: string, jsDir: string, allowed: string[]): void => {
    const target = join(KIT_DIR, pkg);
    mkdirSync(join(target, jsDir), { recursive: true });
    copyFileSync(join(pkg, 'package.json'), join(target, 'package.json'));
    // package.json inside the folder too: onnxruntime-common's says {"type": "commonjs"} against its top one's "module".
    for (const name of readdirSync(join(pkg, jsDir)).filter((n) => n.endsWith('.js') || n === 'package.json')) {
      if (name.endsWith('.js')) checkImports(join(pkg, jsDir, name), allowed, true);
      copyFileSync(join(pkg, jsDir, name), join(target, jsDir, name));
    }
  };
  copyJs(ORT_DIR, 'dist', ['onnxruntime-common']);
  copyJs(ORT_COMMON_DIR, 'dist/cjs', []);
  const target = join(KIT_DIR, ORT_DIR);
  mkdirSync(join(target, ORT_BIN), { recursive: true });
  copyFileSync(join(ORT_DIR, ORT_BINDING), join(target, ORT_BINDING));
  log(`onnxruntime-node: compressing ${mib(statSync(join(ORT_DIR, ORT_LIB)).size)} libonnxruntime.so.1 (about a minute)`);
  xzInto(join(ORT_DIR, ORT_LIB), join(target, `${ORT_LIB}.xz`));
  const version = (JSON.parse(readFileSync(join(ORT_DIR, 'package.json'), 'utf8')) as { version: string }).version;
  log(`onnxruntime-node ${version}: libonnxruntime.so.1.xz ${mib(statSync(join(target, `${ORT_LIB}.xz`)).size)}, all of it ${mib(bytesUnder(target) + bytesUnder(join(KIT_DIR, ORT_COMMON_DIR)))}`);
}

/** webgpu's package.json, loader and linux-x64 binary; fails if its loader starts needing anything else. */
function copyWebgpu(): void {
  checkImports(join(WEBGPU_DIR, 'index.js'), [], false);
  const loader = readFileSync(join(WEBGPU_DIR, 'index.js'), 'utf8');
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
  const ortFiles = args.ort ? ['bench-ort.mjs', join(ORT_DIR, `${ORT_LIB}.xz`), join(ORT_DIR, ORT_BINDING), ORT_COMMON_DIR] : [];
  for (const file of ['bench-node.mjs', 'node.xz', join(WEBGPU_DIR, `${DAWN_NODE}.xz`), ...ortFiles, 'run.sh']) {
    log(`  ${file.padEnd(60)} ${mib(bytesUnder(join(KIT_DIR, file))).padStart(9)}`);
  }
  log(`kit ${KIT_DIR}: ${mib(kitBytes)} (budget ${mib(KIT_BUDGET_BYTES)})`);
  if (kitBytes > KIT_BUDGET_BYTES) log('WARNING: the kit is over its budget; check what grew (Node, dawn.node or libonnxruntime)');
  const glBytes = existsSync(GL_DIR) ? bytesUnder(GL_DIR) : 0;
  const treeBytes = gitListedBytes([]) + gitListedBytes(['--others', '--exclude-standard']);
  const travelling = treeBytes + kitBytes + glBytes;
  log(`${GL_DIR}: ${mib(glBytes)}; working tree that travels: ${mib(treeBytes)}; with the kit and ${GL_DIR}: ${mib(travelling)} of ${mib(DEVICE_TREE_LIMIT_BYTES)}`);
  if (travelling > DEVICE_TREE_LIMIT_BYTES) {
    log(`WARNING: over the device limit by ${mib(travelling - DEVICE_TREE_LIMIT_BYTES)}: the call would be refused; move big folders out of the tree for the call`);
  }
  if (args.ort) log(`room left for the model and the rest of the tree: ${mib(DEVICE_TREE_LIMIT_BYTES - kitBytes - glBytes)}`);
}

/** Runs the kit as the device would: a scratch copy of the kit alone (no node_modules above it), 1 timed run; with
 * --ort, onnxruntime on a scratch copy of the fixture model (on SwiftShader, which Dawn here falls back to anyway). */
function checkHere(): void {
  const scratch = mkdtempSync(join(tmpdir(), 'device-kit-check-'));
  try {
    const kitCopy = join(scratch, KIT_DIR);
    cpSync(KIT_DIR, kitCopy, { recursive: true });
    const ortEnv: Record<string, string> = {};
    if (args.ort) {
      cpSync(CHECK_MODEL_DIR, join(scratch, CHECK_MODEL_DIR), { recursive: true });
      Object.assign(ortEnv, { ORT_MODEL: CHECK_MODEL_DIR, ORT_PRECISION: 'both', ORT_RUNS: '1', ORT_WARMUP: '0', ORT_TIMEOUT: '900' });
      // onnxruntime's own Dawn has no fallback: point every Vulkan client at SwiftShader, as the kernel bench ends up.
      if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) ortEnv.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    }
    log(`check: running ${kitCopy}/run.sh --runs 1 --warmup 0${args.ort ? ` with ${Object.entries(ortEnv).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}`);
    // Its exit status is not the verdict: SwiftShader has no shader-f16, so the fp16 attempt fails here (below).
    const ran = spawnSync('nice', ['-n', '10', 'bash', join(kitCopy, 'run.sh'), '--runs', '1', '--warmup', '0'], {
      env: { ...process.env, ...ortEnv, OUT: join(scratch, 'out'), GPU_NAME: 'check', NODE_PATH: '' },
      cwd: scratch,
      stdio: 'inherit',
    });
    log(`check: run.sh exited with ${ran.status ?? ran.signal}`);
    const outFiles = readdirSync(join(scratch, 'out'));
    log(`check: $OUT has ${outFiles.join(', ')}`);
    const report = JSON.parse(readFileSync(join(scratch, 'out', 'node-dawn-check.json'), 'utf8')) as NodeBenchReport;
    log(`check: ${report.kind} with ${Object.keys(report.kernels).length} kernels, ${report.ort.length} onnxruntime entries`);
    if (args.ort) {
      const ort = JSON.parse(readFileSync(join(scratch, 'out', 'ort-node-webgpu-check.json'), 'utf8')) as OrtInNodeReport[];
      for (const result of ort) log(`check: ${ortResultLine(result)}`);
      const [fp32, fp16] = ort;
      if (fp32?.status !== 'ok') throw new Error('check: onnxruntime did not run the fp32 graphs');
      if (fp16?.status !== 'ok' && !(report.adapter.software && /requires f16/.test(fp16?.detail ?? ''))) {
        throw new Error('check: the fp16 attempt neither ran nor failed for want of shader-f16 on a software adapter');
      }
      if (report.ort.length !== 2) throw new Error('check: the onnxruntime results are not in the kernel report');
    } else if (ran.status !== 0) {
      throw new Error(`check: run.sh failed (exit ${ran.status ?? ran.signal})`);
    }
    log('check: OK');
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (!hasCommand('xz')) throw new Error('xz is needed to build the kit (apt-get install xz-utils)');
  rmSync(KIT_DIR, { recursive: true, force: true });
  mkdirSync(KIT_DIR, { recursive: true });
  await bundleBench('bench-node.mjs');
  copyWebgpu();
  if (args.ort) {
    await bundleBench('bench-ort.mjs');
    copyOrtNode();
  }
  packNode();
  copyFileSync('tools/device/run.sh', join(KIT_DIR, 'run.sh'));
  chmodSync(join(KIT_DIR, 'run.sh'), 0o755);
  prepareGl();
  reportSizes();
  if (args.check) checkHere();
  log('on a device machine, one call (the bench runs 50 times after 10 warm-up; the results come back in $OUT):');
  if (args.ort) {
    log('then onnxruntime-node WebGPU EP: 20 runs after 5 warm-up per graph, at most ORT_TIMEOUT=90 s; ORT_MODEL (default');
    log('public/models/deit-tiny-beans, relative to the repository) and ORT_PRECISION (fp32, fp16 or both; default fp32) pick');
    log('what it times, e.g. command: "ORT_PRECISION=fp16 bash .work/device/run.sh" with only the fp16 files in the tree');
  }
  console.log(`\n  ${DEVICE_CALL}\n`);
  log('then: copy node-dawn-<gpu>.json into docs/bench/ and run npm run plot -- --node docs/bench/node-dawn-<gpu>.json');
}

main().catch((err: unknown) => { console.error(err); process.exit(1); });
