/**
 * Reads TypeScript sources with the compiler's own parser and reports breaks of the
 * architecture rules: third-party packages outside their home, process.env/argv/exit outside
 * the entry points, and catches that do nothing.
 */
import ts from 'typescript';

/** Where each third-party package may be imported, as path prefixes under src/. Only
 * packages in package.json's dependencies (a test checks both ways). */
export const PACKAGE_HOMES: Readonly<Record<string, readonly string[]>> = {
  yaml: ['src/config/'],
  ajv: ['src/config/'],
  keyv: ['src/memory/'],
  '@keyv/sqlite': ['src/memory/'],
  '@keyv/redis': ['src/memory/'],
  'gpt-tokenizer': ['src/answer/'],
  'markdown-it': ['src/format/'],
  'prom-client': ['src/ops/'],
  openai: ['src/llm/'],
  grammy: ['src/telegram/'],
  '@grammyjs/runner': ['src/telegram/'],
  '@grammyjs/auto-retry': ['src/telegram/'],
  pino: ['src/logger.ts'],
  'pino-pretty': ['src/logger.ts'],
};

/** Files allowed to touch process.env, process.argv and process.exit. */
export const PROCESS_FILES: readonly string[] = ['src/cli.ts', 'src/shutdown.ts'];

/** One broken rule, at a 1-based line. */
export interface Violation {
  readonly file: string;
  readonly line: number;
  readonly rule: 'package-home' | 'unknown-package' | 'process-global' | 'empty-catch';
  readonly detail: string;
}

/** The package a bare import specifier names (`@scope/name/sub` → `@scope/name`), or
 * undefined for relative paths and node: builtins. */
export function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('node:') || specifier.startsWith('/')) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Every violation in one source file; `file` is its path relative to the repository root. */
export function analyzeSource(file: string, text: string): Violation[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const violations: Violation[] = [];
  const report = (node: ts.Node, rule: Violation['rule'], detail: string): void => {
    violations.push({ file, line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1, rule, detail });
  };
  const checkSpecifier = (node: ts.Node, specifier: string): void => {
    const pkg = packageOf(specifier);
    if (pkg === undefined) return;
    const homes = PACKAGE_HOMES[pkg];
    if (homes === undefined) report(node, 'unknown-package', `${pkg} has no declared home folder`);
    else if (!homes.some((home) => file.startsWith(home)))
      report(node, 'package-home', `${pkg} may only be imported in ${homes.join(', ')}`);
  };
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      checkSpecifier(node, node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg && ts.isStringLiteralLike(arg)) checkSpecifier(node, arg.text);
    } else if (
      ts.isPropertyAccessExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'process'
    ) {
      if (['env', 'argv', 'exit'].includes(node.name.text) && !PROCESS_FILES.includes(file)) {
        report(node, 'process-global', `process.${node.name.text} is only for ${PROCESS_FILES.join(' and ')}`);
      }
    } else if (ts.isCatchClause(node) && node.block.statements.length === 0) {
      report(node, 'empty-catch', 'a catch must rethrow, convert the error, or handle it visibly');
    } else if (isEmptyCatchCallback(node)) {
      report(node, 'empty-catch', '.catch() with an empty callback swallows the error');
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return violations;
}

/** `.catch(() => {})`, `.catch(() => undefined)`, `.catch(function () {})`, `.catch(noop)`-free. */
function isEmptyCatchCallback(node: ts.Node): boolean {
  if (
    !ts.isCallExpression(node) ||
    !ts.isPropertyAccessExpression(node.expression) ||
    node.expression.name.text !== 'catch'
  )
    return false;
  const [callback] = node.arguments;
  if (callback === undefined || !(ts.isArrowFunction(callback) || ts.isFunctionExpression(callback))) return false;
  const body = callback.body;
  if (ts.isBlock(body)) return body.statements.length === 0;
  return body.kind === ts.SyntaxKind.UndefinedKeyword || (ts.isIdentifier(body) && body.text === 'undefined');
}
