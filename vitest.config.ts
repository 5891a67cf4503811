import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores on the team's machines: keep parallel files modest so timing-sensitive
    // crash tests are not starved.
    maxWorkers: 2,
    pool: 'forks',
  },
});
