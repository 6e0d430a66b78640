import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // gpu.js compiles kernels from their JavaScript source text: minified code would not parse
    // the same (and names like `this.thread` must survive).
    minify: false,
    target: 'es2022',
  },
  logLevel: 'warn',
});
