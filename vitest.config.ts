import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // The browser tests drive the built web app (docs/web.md).
    globalSetup: ['test/support/build-web-app.ts'],
  },
});
