// Bundles the web UI (src/ui/app) into dist/web/: one ES module entry for the browser, with Plotly in a chunk
// loaded only when a page shows a Plotly figure or a parallel-coordinates plot. Served by the server; no CDN.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist/web', { recursive: true, force: true });
mkdirSync('dist/web', { recursive: true });
await build({
  entryPoints: { main: 'src/ui/app/main.ts' },
  outdir: 'dist/web/assets',
  bundle: true,
  platform: 'browser',
  format: 'esm',
  splitting: true,
  chunkNames: '[name]-[hash]',
  target: ['chrome110', 'firefox110', 'safari16'],
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
});
copyFileSync('src/ui/app/index.html', 'dist/web/index.html');
