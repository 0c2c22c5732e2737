import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // Real-Nix and server tests spawn processes; keep the default timeout generous.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: more workers only make the Nix-bound tests fight for CPU.
    maxWorkers: 2,
  },
});
