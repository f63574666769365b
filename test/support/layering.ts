/**
 * Checks which part of src/ imports which, against a table of allowed imports (the table
 * itself is in test/architecture.test.ts). Reads imports with the compiler's own parser.
 *
 * With `verbatimModuleSyntax`, only `import type` / `export type` vanish at run time;
 * `import { type A }` still loads the module, so it counts as a value import here.
 */
import { posix } from 'node:path';
import ts from 'typescript';
import { PACKAGE_HOMES, packageOf } from './architecture.js';

/** How much of another part a part may import. `value`: anything. `interface`: types from
 * any module, values only from modules that load no SDK, even indirectly (an SDK is a package
 * housed in a folder of PACKAGE_HOMES: openai, keyv, grammy, yaml, …). `types`: `import type`
 * only. */
export type Access = 'value' | 'interface' | 'types';

/** For each part (a folder under src/, a top-level file like `app.ts`, or `base` for
 * defaults.ts, errors.ts, logger.ts and mask.ts), the parts it may import and how. A part may always
 * import itself; a part missing from a row may not be imported at all. */
export type LayerTable = Readonly<Record<string, Readonly<Record<string, Access>>>>;

/** The files that make up the `base` part (built-in defaults, errors, logger, masking): they import nothing of ours. */
export const BASE_FILES: readonly string[] = ['src/defaults.ts', 'src/errors.ts', 'src/logger.ts', 'src/mask.ts'];

/** One import of a module of ours by another, or of a package. */
export interface ImportEdge {
  /** The importing file, relative to the repository root. */
  readonly from: string;
  /** The imported file (`src/llm/llm-client.ts`), or the package name for a bare specifier. */
  readonly to: string;
  readonly line: number;
  /** Erased at compile time (`import type`, `export type`, `import('…').T` in a type). */
  readonly typeOnly: boolean;
  readonly isPackage: boolean;
}

/** A broken layering rule in `file` at a 1-based `line`. */
export interface LayerViolation {
  readonly file: string;
  readonly line: number;
  readonly rule: 'layer' | 'unknown-layer';
  readonly detail: string;
}

/** Every import in one file: static, re-export, dynamic `import()` and type `import('…')`.
 * Relative specifiers are resolved to the `.ts` file they name; node: builtins are left out. */
export function importsOf(file: string, text: string): ImportEdge[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const edges: ImportEdge[] = [];
  const add = (node: ts.Node, specifier: string, typeOnly: boolean): void => {
    if (specifier.startsWith('node:')) return;
    const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
    const pkg = packageOf(specifier);
    const to = pkg ?? posix.normalize(posix.join(posix.dirname(file), specifier)).replace(/\.js$/, '.ts');
    edges.push({ from: file, to, line, typeOnly, isPackage: pkg !== undefined });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node, node.moduleSpecifier.text, node.importClause?.isTypeOnly ?? false);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node, node.moduleSpecifier.text, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg && ts.isStringLiteralLike(arg)) add(node, arg.text, false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const literal = node.argument.literal;
      if (ts.isStringLiteral(literal)) add(node, literal.text, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

/** The part of src/ a file belongs to in `layers`, or undefined when it belongs to none. */
export function layerOf(file: string, layers: LayerTable): string | undefined {
  if (BASE_FILES.includes(file)) return 'base';
  const [top, ...rest] = file.replace(/^src\//, '').split('/');
  const part = rest.length === 0 ? top : top === undefined ? undefined : `${top}/`;
  return part !== undefined && layers[part] !== undefined ? part : undefined;
}

/** Every import in `sources` (path → text, all of src/) that `layers` does not allow. */
export function layeringViolations(sources: ReadonlyMap<string, string>, layers: LayerTable): LayerViolation[] {
  const edges = new Map([...sources].map(([file, text]) => [file, importsOf(file, text)] as const));
  const sdkOf = sdkFinder(edges);
  const violations: LayerViolation[] = [];
  for (const [file, fileEdges] of edges) {
    const from = layerOf(file, layers);
    if (from === undefined) {
      const detail = `${file} belongs to no part of the layering; add its folder or file to LAYERS`;
      violations.push({ file, line: 1, rule: 'unknown-layer', detail });
      continue;
    }
    for (const edge of fileEdges) {
      const detail = edge.isPackage ? undefined : edgeProblem(edge, from, layerOf(edge.to, layers), layers, sdkOf);
      if (detail !== undefined) violations.push({ file, line: edge.line, rule: 'layer', detail });
    }
  }
  return violations;
}

/** Why `edge` (from part `from` to part `to`) is not allowed, or undefined when it is. */
function edgeProblem(
  edge: ImportEdge,
  from: string,
  to: string | undefined,
  layers: LayerTable,
  sdkOf: (file: string) => string | undefined,
): string | undefined {
  if (to === undefined) return `${edge.to} belongs to no part of the layering`;
  if (to === from) return undefined;
  const access = layers[from]?.[to];
  const what = `${from} importing ${edge.to}`;
  if (access === undefined) return `${what}: ${from} may not import from ${to}`;
  if (access === 'value' || edge.typeOnly) return undefined;
  if (access === 'types') return `${what}: ${from} may only use \`import type\` from ${to}`;
  const sdk = sdkOf(edge.to);
  if (sdk === undefined) return undefined;
  return `${what}: a value import that loads ${sdk}; use \`import type\` or move the value to an SDK-free module`;
}

/** A lookup: the first SDK a file loads at run time, directly or through its value imports
 * (followed to any depth, cycles included), or undefined when it loads none. */
function sdkFinder(edges: ReadonlyMap<string, readonly ImportEdge[]>): (file: string) => string | undefined {
  const find = (file: string, seen: Set<string>): string | undefined => {
    seen.add(file);
    for (const edge of edges.get(file) ?? []) {
      if (edge.typeOnly || (!edge.isPackage && seen.has(edge.to))) continue;
      const found = edge.isPackage ? (isSdk(edge.to) ? edge.to : undefined) : find(edge.to, seen);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return (file) => find(file, new Set());
}

/** Whether `pkg` is housed in a domain folder (an SDK), not in a base file such as logger.ts. */
function isSdk(pkg: string): boolean {
  return (PACKAGE_HOMES[pkg] ?? []).some((home) => home.endsWith('/'));
}
