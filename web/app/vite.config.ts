import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The web app (docs/web.md): built into dist/web, which Parley serves at
 * `/` and `/ai-assistant`, with its hashed files under `/app/`.
 */
export default defineConfig({
  root,
  base: '/app/',
  // Preact's automatic JSX runtime: no React, no compat layer.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // No source maps in the served folder: the budget test weighs what a browser loads.
    sourcemap: false,
    reportCompressedSize: false,
  },
  logLevel: 'warn',
});
