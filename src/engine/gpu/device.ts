// The engine's own GPUDevice: adapter probe (memoised), the limits onnxruntime-web's WebGPU EP needs,
// and one place where device loss and uncaptured errors are routed.

export interface AdapterProbe {
  adapter: GPUAdapter;
  /** Software adapters (SwiftShader) run models far slower than the WASM backend. */
  isFallbackAdapter: boolean;
  hasShaderF16: boolean;
  description: string;
}

let adapterProbe: Promise<AdapterProbe | null> | undefined;

/** A real adapter, or null when WebGPU is missing. Memoised; `refresh` re-probes (after a device loss). */
export function probeAdapter(refresh = false): Promise<AdapterProbe | null> {
  if (refresh || !adapterProbe) adapterProbe = requestProbe();
  return adapterProbe;
}

async function requestProbe(): Promise<AdapterProbe | null> {
  if (typeof navigator === 'undefined' || !navigator.gpu) return null;
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch {
    return null;
  }
  if (!adapter) return null;
  const info = adapter.info;
  return {
    adapter,
    isFallbackAdapter: Boolean(info?.isFallbackAdapter),
    hasShaderF16: adapter.features.has('shader-f16'),
    description: [info?.vendor, info?.architecture, info?.device, info?.description].filter(Boolean).join(' ') || 'unknown adapter',
  };
}

// onnxruntime-web asks for the adapter's maximum of these when it creates a device itself; ours must match.
const LIMITS_ORT_NEEDS = [
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxStorageBuffersPerShaderStage',
] as const;

const OPTIONAL_FEATURES: GPUFeatureName[] = ['timestamp-query', 'subgroups' as GPUFeatureName];

export interface EngineDevice {
  device: GPUDevice;
  probe: AdapterProbe;
  usesF16: boolean;
}

/** Adapters that already handed out their one device. */
const consumedAdapters = new WeakSet<GPUAdapter>();

/** Requests a device; the probe's adapter is used once, later devices (another engine, a rebuild) get a fresh one. */
export async function createEngineDevice(probe: AdapterProbe, wantF16: boolean): Promise<EngineDevice> {
  let adapter = probe.adapter;
  if (consumedAdapters.has(adapter)) {
    const fresh = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!fresh) throw new Error('no WebGPU adapter for another device');
    adapter = fresh;
  }
  consumedAdapters.add(adapter);
  const requiredLimits: Record<string, number> = {};
  for (const name of LIMITS_ORT_NEEDS) {
    const value = (adapter.limits as unknown as Record<string, number | undefined>)[name];
    if (typeof value === 'number') requiredLimits[name] = value;
  }
  const usesF16 = wantF16 && probe.hasShaderF16;
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
  if (usesF16) requiredFeatures.push('shader-f16');
  const device = await adapter.requestDevice({ label: 'LeafLens.engine', requiredLimits, requiredFeatures });
  return { device, probe, usesF16 };
}

/** Calls `onLost` once when the device is lost for any reason other than our own `destroy()`. */
export function watchDevice(device: GPUDevice, onLost: (reason: string) => void, isOurDestroy: () => boolean): void {
  void device.lost.then((info) => {
    if (isOurDestroy()) return;
    onLost(`${info.reason}: ${info.message}`);
  });
  device.addEventListener('uncapturederror', (event) => {
    console.error(`[leaf-lens] WebGPU error on ${device.label}: ${(event as GPUUncapturedErrorEvent).error.message}`);
  });
}
