import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Forked-process and loopback tests wait on real child processes; give them room on a busy machine.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
