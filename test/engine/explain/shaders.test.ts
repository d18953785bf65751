// Constant checks on the WGSL sources: TypeScript owns every constant the kernels and the host share.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { explainShaderSource, FUSION_CODES } from '../../../src/engine/explain/gpuExplainer';

const SHADERS = join(process.cwd(), 'shaders');
const kernels = readdirSync(SHADERS).filter((f) => f.endsWith('.wgsl') && f !== 'common.wgsl');

describe('WGSL sources', () => {
  test('one kernel per file: each has exactly one @compute entry point named main', () => {
    expect(kernels.sort()).toEqual(['discardThreshold.wgsl', 'fuseHeads.wgsl', 'heatmapOverlay.wgsl', 'patchMap.wgsl', 'propagateRow.wgsl']);
    for (const file of kernels) {
      const source = readFileSync(join(SHADERS, file), 'utf8');
      expect(source.match(/@compute/g), file).toHaveLength(1);
      expect(source, file).toMatch(/@compute @workgroup_size\([^)]*\)\s*\nfn main\(/);
    }
  });

  test('workgroup sizes are override constants without a WGSL default (the host must set them)', () => {
    for (const file of kernels) {
      const source = readFileSync(join(SHADERS, file), 'utf8');
      const overrides = [...source.matchAll(/override\s+(\w+)\s*:\s*u32\s*(=)?/g)];
      expect(overrides.length, file).toBeGreaterThan(0);
      for (const match of overrides) expect(match[2], `${file}: override ${match[1]} has a default`).toBeUndefined();
    }
  });

  test('every FUSION_* name a kernel uses is generated from FUSION_CODES, with distinct codes', () => {
    const source = explainShaderSource(readFileSync(join(SHADERS, 'fuseHeads.wgsl'), 'utf8'));
    const used = new Set(source.match(/FUSION_[A-Z_]+/g));
    const defined = new Set([...source.matchAll(/const (FUSION_[A-Z_]+): u32 = (\d+)u;/g)].map((m) => m[1]));
    for (const name of used) expect(defined.has(name), name).toBe(true);
    expect(defined.size).toBe(Object.keys(FUSION_CODES).length);
    expect(new Set(Object.values(FUSION_CODES)).size).toBe(Object.keys(FUSION_CODES).length);
    expect(source).toContain('FUSION_POSITIVE_PRODUCT_MEAN');
  });
});
