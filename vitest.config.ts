import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    environment: 'node',
    // Browser tests drive software WebGPU; they set their own, longer timeouts per file.
    testTimeout: 30_000,
    hookTimeout: 180_000,
    // One Chromium at a time on a 2-core machine.
    fileParallelism: false,
  },
});
