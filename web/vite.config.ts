import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const webRoot = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: webRoot,
  plugins: [react()],
  build: {
    outDir: path.resolve(webRoot, '../dist/web'),
    emptyOutDir: true,
    // The CSP allows only same-origin files: nothing may be inlined as a data: URL.
    assetsInlineLimit: 0,
    // On a busy machine the CSS transform "takes long" every time: a warning nobody can act on.
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
  server: {
    host: '127.0.0.1',
    // `npm run dev:web` beside `npm start`: the dashboard API comes from the running Tollgate.
    proxy: { '/dashboard/api': 'http://127.0.0.1:8080' },
  },
});
