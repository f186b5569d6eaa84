// The layering of src/ as an import graph: model → store interfaces → drivers → core → surfaces, checked rule by rule.
//
// Every .ts file under src/ is parsed by TypeScript and its imports collected (static imports and re-exports,
// side-effect imports, dynamic import() calls); each import is resolved to a file of src/ or kept as a
// package name, and marked type-only when it cannot load code at run time (`import type`, `export type`,
// `import { type A, type B }`, `typeof import('x')`, `import('x').T`). The rules below are functions of that
// graph; each is also run against a graph with one bad import planted, so a rule that cannot fail fails here.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
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

function resolveSpecifier(fromFile: string, specifier: string): { to: string; internal: boolean } {
  if (!specifier.startsWith('.')) return { to: specifier, internal: false };
  const target = resolve(dirname(join(SRC, fromFile)), specifier).replace(/\.js$/, '.ts');
  return { to: relative(SRC, target).split('\\').join('/'), internal: true };
}

/** True when every named binding is `type`-marked (`import { type A, type B }`), so the statement loads nothing. */
const allNamedTypeOnly = (elements: readonly { isTypeOnly: boolean }[]) => elements.length > 0 && elements.every((e) => e.isTypeOnly);

/**
 * The imports of one file, read from TypeScript's own syntax tree (so comments, strings and template
 * literals that look like imports are none): static imports and re-exports, side-effect imports, dynamic
 * import() calls and import types.
 */
export function parseImports(file: string, text: string): ImportEdge[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const edges: ImportEdge[] = [];
  const add = (specifier: string, typeOnly: boolean) => edges.push({ from: file, ...resolveSpecifier(file, specifier), typeOnly });
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const bindings = clause?.namedBindings;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined && bindings !== undefined && ts.isNamedImports(bindings) && allNamedTypeOnly(bindings.elements)));
      add(node.moduleSpecifier.text, typeOnly);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.exportClause;
      add(
        node.moduleSpecifier.text,
        node.isTypeOnly || (clause !== undefined && ts.isNamedExports(clause) && allNamedTypeOnly(clause.elements)),
      );
    } else if (ts.isImportTypeNode(node)) {
      const argument = node.argument;
      if (ts.isLiteralTypeNode(argument) && ts.isStringLiteral(argument.literal)) add(argument.literal.text, true);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [specifier] = node.arguments;
      if (specifier && ts.isStringLiteralLike(specifier)) add(specifier.text, false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

/** The identifiers a file's code uses (comments and strings are not code). */
function identifiers(file: string, text: string): Set<string> {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const names = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node)) names.add(node.text);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return names;
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
  'store/env-store.ts',
  'store/sweep-store.ts',
  'store/artifact-store.ts',
  'store/async.ts',
  'store/artifact-store.ts',
  'store/artifact-blobs.ts',
]);

/** The factories that pick a driver: the only files outside a driver's folder that may import it. */
export const DRIVER_FACTORIES = new Set([
  'store/open-store-backend.ts',
  'store/open-publish-source.ts',
  'store/open-server-backend.ts',
  'store/open-artifact-blobs.ts',
]);

/** The concrete store classes, each inside its driver's folder. */
export const CONCRETE_STORE_CLASSES = [
  'SqliteBackend',
  'SqliteServerBackend',
  'SqliteStudyBackend',
  'SqliteRunBackend',
  'SqliteSweepBackend',
  'SqlitePublishSource',
  'WriterThread',
  'PostgresBackend',
  'PostgresExperimentReader',
  'PostgresStudyBackend',
  'PostgresBlobStore',
  'PostgresKeyStore',
  'PostgresSeriesPages',
  'PostgresUiQueries',
  'PgPool',
  'S3ArtifactBlobs',
] as const;

/** The one file that loads pg at run time (the pool); the other PostgreSQL files take its query interface, and may import pg's types. */
export const PG_LOADER = 'store/postgres/pg-pool.ts';

/** The one file that loads @aws-sdk at run time (on first use, by a dynamic import); only store/s3/ may name it at all, types included. */
export const S3_LOADER = 'store/s3/s3-artifact-blobs.ts';
const isAwsSdk = (e: ImportEdge) => !e.internal && (e.to.startsWith('@aws-sdk/') || e.to.startsWith('@smithy/'));

/** The folders of the drivers: each imported from outside only by a factory (DRIVER_FACTORIES). */
const DRIVER_FOLDERS = ['store/sqlite', 'store/postgres', 'store/s3'];

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

  // Fails when a store file (an interface or a driver) imports core/: storage sits below core, and the errors,
  // limits and name rules both use are in model/.
  'store imports nothing from core': (graph) =>
    graph.filter((e) => under(e.from, 'store') && e.internal && under(e.to, 'core')).map(describeEdge),

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

  // Fails when a file outside store/sqlite/ (or store/postgres/, store/s3/) imports a driver file, other than a factory.
  'driver folders are imported only by their factories': (graph) =>
    graph
      .filter((e) => e.internal)
      .filter((e) => DRIVER_FOLDERS.some((driver) => under(e.to, driver) && !under(e.from, driver) && !DRIVER_FACTORIES.has(e.from)))
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

  // Fails when a file other than PG_LOADER loads pg at run time (`import pg from 'pg'`, `await import('pg')`), inside
  // store/postgres/ or outside it; `import type` from pg is allowed.
  'pg is loaded at run time only by the pool (store/postgres/pg-pool.ts)': (graph) =>
    graph.filter((e) => !e.internal && (e.to === 'pg' || e.to.startsWith('pg/')) && !e.typeOnly && e.from !== PG_LOADER).map(describeEdge),

  // Fails when a file outside store/s3/ imports @aws-sdk (or its @smithy parts), even only its types: S3 is one driver's business.
  'only store/s3/ imports @aws-sdk': (graph) => graph.filter((e) => isAwsSdk(e) && !under(e.from, 'store/s3')).map(describeEdge),

  // Fails when a file other than S3_LOADER loads @aws-sdk at run time, inside store/s3/ too (`import type` is allowed there).
  '@aws-sdk is loaded at run time only by store/s3/s3-artifact-blobs.ts': (graph) =>
    graph.filter((e) => isAwsSdk(e) && !e.typeOnly && e.from !== S3_LOADER).map(describeEdge),
};

/** Where a concrete store class is named (as a word, comments aside) outside its folder and the factories. */
function concreteClassMentions(): string[] {
  const found: string[] = [];
  for (const path of sourceFiles(SRC)) {
    const file = relative(SRC, path).split('\\').join('/');
    if (DRIVER_FOLDERS.some((driver) => under(file, driver)) || DRIVER_FACTORIES.has(file)) continue;
    const names = identifiers(file, readFileSync(path, 'utf8'));
    for (const name of CONCRETE_STORE_CLASSES) if (names.has(name)) found.push(`${file} names ${name}`);
  }
  return found;
}

/** For each rule, one import that breaks it. */
const PLANTED: Record<keyof typeof RULES, ImportEdge> = {
  'model imports nothing outside model': { from: 'model/series.ts', to: 'core/study.ts', internal: true, typeOnly: true },
  'store imports nothing from core': { from: 'store/ingest-plan.ts', to: 'core/experiment.ts', internal: true, typeOnly: true },
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
    to: 'core/study.ts',
    internal: true,
    typeOnly: false,
  },
  'pg is loaded at run time only by the pool (store/postgres/pg-pool.ts)': {
    from: 'store/postgres/postgres-ingest.ts',
    to: 'pg',
    internal: false,
    typeOnly: false,
  },
  'only store/s3/ imports @aws-sdk': { from: 'server/server.ts', to: '@aws-sdk/client-s3', internal: false, typeOnly: true },
  '@aws-sdk is loaded at run time only by store/s3/s3-artifact-blobs.ts': {
    from: 'store/s3/s3-location.ts',
    to: '@aws-sdk/client-s3',
    internal: false,
    typeOnly: false,
  },
};

describe('architecture: the import graph of src/', () => {
  const graph = importGraph();

  it('parses the imports of every source file (the graph is not empty, and finds known edges)', () => {
    expect(graph.length).toBeGreaterThan(200);
    expect(graph).toContainEqual({ from: 'core/store.ts', to: 'store/backend.ts', internal: true, typeOnly: true });
    expect(graph).toContainEqual({ from: PG_LOADER, to: 'pg', internal: false, typeOnly: false });
    // The S3 driver loads the SDK by a dynamic import (on first use); its other files name only its types.
    expect(graph).toContainEqual({ from: S3_LOADER, to: '@aws-sdk/client-s3', internal: false, typeOnly: false });
    expect(graph).toContainEqual({ from: 'store/s3/s3-objects.ts', to: '@aws-sdk/client-s3', internal: false, typeOnly: true });
    expect(graph).toContainEqual({ from: 'store/postgres/postgres-backend.ts', to: PG_LOADER, internal: true, typeOnly: false });
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
        '// served at / and /assets/* (a comment holding the start of a block comment hides nothing)',
        'const l = \'/* not a comment */ import("../../core/in-a-string.js")\';',
        "import { m } from '../../core/after-the-comment.js';",
        '/* import { n } from "../../core/block-commented.js"; */',
        "const o = `import('../../core/in-a-template.js')`;",
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
      ['core/after-the-comment.ts', false],
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

  it('finds the imports of a file whose header comment holds "/*" (server/ui-assets.ts)', () => {
    const file = 'server/ui-assets.ts';
    const edges = parseImports(file, readFileSync(join(SRC, file), 'utf8'));
    expect(readFileSync(join(SRC, file), 'utf8')).toContain('/*');
    expect(edges.map((e) => e.to)).toContain('fastify');
  });

  it('pg is loaded at run time only by the pool: a type-only import of pg elsewhere passes, one that loads it fails, outside store/postgres/ too', () => {
    const rule = RULES['pg is loaded at run time only by the pool (store/postgres/pg-pool.ts)']!;
    const typeOnly: ImportEdge = { from: 'store/postgres/postgres-ingest.ts', to: 'pg', internal: false, typeOnly: true };
    const outside: ImportEdge = { from: 'server/server.ts', to: 'pg', internal: false, typeOnly: false };
    const dynamic = parseImports('store/postgres/postgres-truncate.ts', "const pg = await import('pg');");
    expect(rule([...graph, typeOnly])).toEqual([]);
    expect(rule([...graph, outside])).toEqual([describeEdge(outside)]);
    expect(rule([...graph, ...dynamic])).toEqual(['store/postgres/postgres-truncate.ts imports pg']);
  });

  it('concrete store classes are named only inside their driver folder and the factories', () => {
    expect(concreteClassMentions()).toEqual([]);
  });

  it('the driver factories exist and each imports its driver', () => {
    for (const factory of DRIVER_FACTORIES) {
      expect(graph.some((e) => e.from === factory && DRIVER_FOLDERS.some((folder) => under(e.to, folder)))).toBe(true);
    }
  });
});
