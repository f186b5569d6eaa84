// Worker entry: how to start a worker module both from the build (a .js file) and from TypeScript sources (through tsx, for tests).

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * The Worker entry for the module `name` (without extension) beside `importMetaUrl`: the built .js file,
 * or, when running from .ts sources, an eval'd bootstrap that registers tsx and imports the .ts file.
 */
export function workerEntry(importMetaUrl: string, name: string): { entry: string | URL; eval: boolean } {
  if (!importMetaUrl.endsWith('.ts')) return { entry: new URL(`./${name}.js`, importMetaUrl), eval: false };
  const tsxDir = dirname(createRequire(importMetaUrl).resolve('tsx/package.json'));
  const api = pathToFileURL(join(tsxDir, 'dist/esm/api/index.mjs')).href;
  const worker = new URL(`./${name}.ts`, importMetaUrl).href;
  return {
    entry: `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(worker)}); });`,
    eval: true,
  };
}
