// The layering of src/ as an import graph: model → store interfaces → drivers → core → surfaces, checked rule by rule.
//
// Every .ts file under src/ is read and its import statements parsed (static imports and re-exports,
// side-effect imports, dynamic import() calls); each import is resolved to a file of src/ or kept as a
// package name, and marked type-only when it cannot load code at run time (`import type`, `export type`,
// `import { type A, type B }`, `typeof import('x')`, `import('x').T`). The rules below are functions of that
// graph; each is also run against a graph with one bad import planted, so a rule that cannot fail fails here.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

/** One import: from a file of src/ (path relative to src/) to a file of src/ or to a package. */
interface ImportEdge {
  readonly from: string;
  /** A path relative to src/ ('store/backend.ts'), or a package name ('pg', 'node:fs'). */
  readonly to: string;
  readonly internal: boolean;
  readonly typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/**
 * The text without comments (block comments, and line comments that start a line) and without the contents
 * of template literals, so a commented-out import, or code shown as text, is no import.
 */
function withoutComments(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '')
    .replace(/`(?:\\.|[^`\\])*`/g, '``');
}

function resolveSpecifier(fromFile: string, specifier: string): { to: string; internal: boolean } {
  if (!specifier.startsWith('.')) return { to: specifier, internal: false };
  const target = resolve(dirname(join(SRC, fromFile)), specifier).replace(/\.js$/, '.ts');
  return { to: relative(SRC, target).split('\\').join('/'), internal: true };
}

// The clause between `import` and `from` holds only names, braces, commas, `*` and `as`.
const STATIC_IMPORT = /^\s*(import|export)\s+(type\s+)?([\w\s{},*$]*?)\s*from\s*['"]([^'"]+)['"]/gm;
const SIDE_EFFECT_IMPORT = /^\s*import\s+['"]([^'"]+)['"]/gm;
const DYNAMIC_IMPORT = /(typeof\s+)?\bimport\(\s*['"]([^'"]+)['"]\s*\)(\.[A-Z])?/g;

export function parseImports(file: string, text: string): ImportEdge[] {
  const code = withoutComments(text);
  const edges: ImportEdge[] = [];
  const add = (specifier: string, typeOnly: boolean) => edges.push({ from: file, ...resolveSpecifier(file, specifier), typeOnly });
  for (const [, , typeKeyword, clause, specifier] of code.matchAll(STATIC_IMPORT)) {
    // `import { type A, type B }` loads nothing once compiled; `import { type A, b }` loads the module.
    const names = /^\{([\s\S]*)\}$/.exec(clause!.trim())?.[1];
    const allTypes = names !== undefined && names.split(',').every((name) => name.trim() === '' || /^type\s/.test(name.trim()));
    add(specifier!, typeKeyword !== undefined || (allTypes && names.trim() !== ''));
  }
  for (const [, specifier] of code.matchAll(SIDE_EFFECT_IMPORT)) add(specifier!, false);
  for (const [, typeofKeyword, specifier, typeMember] of code.matchAll(DYNAMIC_IMPORT)) {
    add(specifier!, typeofKeyword !== undefined || typeMember !== undefined);
  }
  return edges;
}

function importGraph(): ImportEdge[] {
  return sourceFiles(SRC).flatMap((path) => parseImports(relative(SRC, path).split('\\').join('/'), readFileSync(path, 'utf8')));
}

const under = (path: string, folder: string) => path.startsWith(`${folder}/`);

/** The files of store/ that core may import: the capability interfaces it uses, and one shared rule. */
export const CORE_STORE_IMPORTS = new Set([
  'store/backend.ts',
  'store/experiment-reader.ts',
  'store/experiment-writer.ts',
  'store/study-store.ts',
  'store/run-store.ts',
  'store/async.ts',
  // The naming rule every store applies (`name-2`, …) and core applies before creating: pure, no driver.
  'store/experiment-names.ts',
]);

/** The factories that pick a driver: the only files outside a driver's folder that may import it. */
export const DRIVER_FACTORIES = new Set(['store/open-store-backend.ts', 'store/open-publish-source.ts', 'store/open-server-backend.ts']);

/** The concrete store classes, each inside its driver's folder. */
export const CONCRETE_STORE_CLASSES = [
  'SqliteBackend',
  'SqliteServerBackend',
  'SqliteStudyBackend',
  'SqliteRunBackend',
  'SqlitePublishSource',
  'WriterThread',
  'PostgresBackend',
] as const;

/** Layers that sit below the surfaces and so import none of them. */
const SURFACES = ['server', 'sync', 'cli', 'ui'];
const BELOW_SURFACES: Record<string, readonly string[]> = {
  model: SURFACES,
  store: SURFACES,
  core: SURFACES,
  media: SURFACES,
  remote: SURFACES,
  // The publisher sits below the CLI, the UI and the server.
  sync: ['server', 'cli', 'ui'],
};

/** What the browser app may load at run time from outside itself: the pure model and the UI's answer shapes, bundled. */
const UI_APP_RUNTIME_OUTSIDE = (to: string) => under(to, 'model') || to === 'ui/ui-api.ts';
/** Packages the browser app bundles. */
const UI_APP_PACKAGES = new Set(['uplot', 'plotly.js-dist-min']);

type Rule = (graph: readonly ImportEdge[]) => string[];
const describeEdge = (e: ImportEdge) => `${e.from} imports ${e.to}${e.typeOnly ? ' (type only)' : ''}`;

export const RULES: Record<string, Rule> = {
  // Fails when a model file imports core/, store/, … or any package (model is types and pure functions).
  'model imports nothing outside model': (graph) =>
    graph.filter((e) => under(e.from, 'model') && !(e.internal && under(e.to, 'model'))).map(describeEdge),

  // Fails when core imports a store file not in CORE_STORE_IMPORTS, e.g. store/sqlite/sqlite-backend.ts or store/server-backend.ts.
  'core imports from store/ only the interfaces it uses': (graph) =>
    graph.filter((e) => under(e.from, 'core') && e.internal && under(e.to, 'store') && !CORE_STORE_IMPORTS.has(e.to)).map(describeEdge),

  // Fails when, say, store/ or core/ imports server/, or sync/ imports cli/ (even type-only: the arrow points down).
  'nothing below a surface imports it': (graph) =>
    graph
      .filter((e) => {
        const layer = Object.keys(BELOW_SURFACES).find((folder) => under(e.from, folder));
        return layer !== undefined && e.internal && BELOW_SURFACES[layer]!.some((surface) => under(e.to, surface));
      })
      .map(describeEdge),

  // Fails when a file outside store/sqlite/ (or store/postgres/) imports a driver file, other than a factory.
  'driver folders are imported only by their factories': (graph) =>
    graph
      .filter((e) => e.internal)
      .filter((e) =>
        ['store/sqlite', 'store/postgres'].some((driver) => under(e.to, driver) && !under(e.from, driver) && !DRIVER_FACTORIES.has(e.from)),
      )
      .map(describeEdge),

  // Fails when a browser-app file loads server code, core, or a store at run time (type-only imports are erased).
  'the browser app loads only itself, the model and its packages': (graph) =>
    graph
      .filter((e) => under(e.from, 'ui/app') && !e.typeOnly)
      .filter((e) => (e.internal ? !under(e.to, 'ui/app') && !UI_APP_RUNTIME_OUTSIDE(e.to) : !UI_APP_PACKAGES.has(e.to)))
      .map(describeEdge),

  // Fails when ui/ui-api.ts (bundled into the app) loads anything at run time but the model.
  "the browser app's shared answer shapes load only the model": (graph) =>
    graph.filter((e) => e.from === 'ui/ui-api.ts' && !e.typeOnly && !(e.internal && under(e.to, 'model'))).map(describeEdge),

  // Fails when a file outside store/postgres/ loads pg at run time (`import pg from 'pg'`, `await import('pg')`).
  'pg is loaded only in store/postgres/': (graph) =>
    graph
      .filter((e) => !e.internal && (e.to === 'pg' || e.to.startsWith('pg/')) && !e.typeOnly && !under(e.from, 'store/postgres'))
      .map(describeEdge),
};

/** Where a concrete store class is named (as a word, comments aside) outside its folder and the factories. */
function concreteClassMentions(): string[] {
  const found: string[] = [];
  for (const path of sourceFiles(SRC)) {
    const file = relative(SRC, path).split('\\').join('/');
    if (under(file, 'store/sqlite') || under(file, 'store/postgres') || DRIVER_FACTORIES.has(file)) continue;
    const code = withoutComments(readFileSync(path, 'utf8'));
    for (const name of CONCRETE_STORE_CLASSES) if (new RegExp(`\\b${name}\\b`).test(code)) found.push(`${file} names ${name}`);
  }
  return found;
}

/** For each rule, one import that breaks it. */
const PLANTED: Record<keyof typeof RULES, ImportEdge> = {
  'model imports nothing outside model': { from: 'model/series.ts', to: 'core/errors.ts', internal: true, typeOnly: true },
  'core imports from store/ only the interfaces it uses': {
    from: 'core/store.ts',
    to: 'store/sqlite/sqlite-backend.ts',
    internal: true,
    typeOnly: false,
  },
  'nothing below a surface imports it': { from: 'store/backend.ts', to: 'server/server.ts', internal: true, typeOnly: true },
  'driver folders are imported only by their factories': {
    from: 'sync/publish-store.ts',
    to: 'store/sqlite/sqlite-publish-source.ts',
    internal: true,
    typeOnly: false,
  },
  'the browser app loads only itself, the model and its packages': {
    from: 'ui/app/main.ts',
    to: 'server/json-views.ts',
    internal: true,
    typeOnly: false,
  },
  "the browser app's shared answer shapes load only the model": {
    from: 'ui/ui-api.ts',
    to: 'core/errors.ts',
    internal: true,
    typeOnly: false,
  },
  'pg is loaded only in store/postgres/': { from: 'server/server.ts', to: 'pg', internal: false, typeOnly: false },
};

describe('architecture: the import graph of src/', () => {
  const graph = importGraph();

  it('parses the imports of every source file (the graph is not empty, and finds known edges)', () => {
    expect(graph.length).toBeGreaterThan(200);
    expect(graph).toContainEqual({ from: 'core/store.ts', to: 'store/backend.ts', internal: true, typeOnly: true });
    expect(graph).toContainEqual({ from: 'store/postgres/postgres-backend.ts', to: 'pg', internal: false, typeOnly: false });
    expect(graph).toContainEqual({
      from: 'store/open-server-backend.ts',
      to: 'store/postgres/postgres-backend.ts',
      internal: true,
      typeOnly: false,
    });
  });

  it('tells type-only imports from imports that load code', () => {
    const edges = parseImports(
      'ui/app/x.ts',
      [
        "import type { A } from '../../core/a.js';",
        "import { type B, type C } from '../../core/b.js';",
        "import { type D, e } from '../../core/c.js';",
        "export type { F } from '../../core/d.js';",
        "export { g } from '../../core/e.js';",
        "import '../../core/f.js';",
        "type H = typeof import('../../core/g.js');",
        "let i: import('../../core/h.js').Item;",
        "const j = await import('../../core/i.js');",
        "// import { k } from '../../core/commented.js';",
      ].join('\n'),
    );
    expect(edges.map((e) => [e.to, e.typeOnly])).toEqual([
      ['core/a.ts', true],
      ['core/b.ts', true],
      ['core/c.ts', false],
      ['core/d.ts', true],
      ['core/e.ts', false],
      ['core/f.ts', false],
      ['core/g.ts', true],
      ['core/h.ts', true],
      ['core/i.ts', false],
    ]);
  });

  for (const [name, rule] of Object.entries(RULES)) {
    it(`${name}`, () => {
      expect(rule(graph)).toEqual([]);
    });

    it(`${name}: fails on a planted bad import`, () => {
      const planted = PLANTED[name]!;
      expect(rule([...graph, planted])).toEqual([describeEdge(planted)]);
    });
  }

  it('concrete store classes are named only inside their driver folder and the factories', () => {
    expect(concreteClassMentions()).toEqual([]);
  });

  it('the driver factories exist and each imports its driver', () => {
    for (const factory of DRIVER_FACTORIES) {
      expect(graph.some((e) => e.from === factory && (under(e.to, 'store/sqlite') || under(e.to, 'store/postgres')))).toBe(true);
    }
  });
});
