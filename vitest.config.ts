import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx', 'bench/**/*.test.ts', 'scripts/**/*.test.ts'],
    environment: 'node',
    // setups open ORT sessions (WASM compiles its binary): on a loaded 2-core machine that took >10 s
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
