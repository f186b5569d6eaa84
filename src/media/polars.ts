// nodejs-polars, loaded on first use (a native module of ~40 MB that most runs never need).

import { createRequire } from 'node:module';

export type Polars = typeof import('nodejs-polars');

const require = createRequire(import.meta.url);
let polars: Polars | undefined;

/** The nodejs-polars module, required once when first asked for. */
export function loadPolars(): Polars {
  return (polars ??= require('nodejs-polars') as Polars);
}
