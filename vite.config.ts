// The browser playground: `npm run web` serves src/web/playground with live reload, `npm run
// build:web` writes static files to web-dist/ (relative URLs, so any static server or path works).
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('./src/web/playground', import.meta.url));

export default defineConfig({
  root,
  base: './',
  build: {
    outDir: fileURLToPath(new URL('./web-dist', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
  },
  worker: { format: 'es' },
  server: {
    // The page imports engine sources and build/*.wasm from outside its root.
    fs: { allow: [fileURLToPath(new URL('.', import.meta.url))] },
  },
});
