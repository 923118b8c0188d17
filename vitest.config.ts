import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Sized for a 2-core machine shared with other work, where starting a Node process (a server,
    // the CLI) can take seconds: a bound that only catches a hang, never a slow but correct test.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // The end-to-end suites start real servers on loopback; two cores run them comfortably in parallel.
    maxWorkers: 2,
    // The JSON report lets .ci/run print one plain "N passed, N failed" closing line.
    reporters: ['default', ['json', { outputFile: 'test-results.json' }]],
  },
});
