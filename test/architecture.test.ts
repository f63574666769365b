/** The architecture rules of ../shared/design/architecture.md, checked on the real src/ tree. */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeSource, PACKAGE_HOMES, packageOf } from './support/architecture.js';
import { REPO_ROOT } from './support/cli.js';

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(join(REPO_ROOT, dir), { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(REPO_ROOT, join(entry.parentPath, entry.name)));
}

describe('architecture of src/', () => {
  it('keeps third-party packages at home, process globals in the entry points, and no catch empty', async () => {
    const files = await sourceFiles('src');
    expect(files).toContain('src/cli.ts');
    const violations = [];
    for (const file of files) violations.push(...analyzeSource(file, await readFile(join(REPO_ROOT, file), 'utf8')));
    expect(violations).toEqual([]);
  });

  it('gives every runtime dependency a home', async () => {
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(pkg.dependencies).filter((name) => PACKAGE_HOMES[name] === undefined)).toEqual([]);
  });
});

describe('the architecture checker', () => {
  it('finds a package imported outside its home, statically, re-exported or dynamically', () => {
    const found = analyzeSource(
      'src/telegram/bot.ts',
      "import { Keyv } from 'keyv';\nexport { parse } from 'yaml';\nconst m = await import('@keyv/redis/dist/x.js');\nimport { Bot } from 'grammy';\nimport { x } from './local.js';\nimport { readFile } from 'node:fs/promises';\n",
    );
    expect(found.map((v) => [v.line, v.rule, v.detail])).toEqual([
      [1, 'package-home', 'keyv may only be imported in src/memory/'],
      [2, 'package-home', 'yaml may only be imported in src/config/'],
      [3, 'package-home', '@keyv/redis may only be imported in src/memory/'],
    ]);
  });

  it('finds a package with no declared home', () => {
    expect(analyzeSource('src/app.ts', "import left from 'left-pad';\n").map((v) => v.rule)).toEqual([
      'unknown-package',
    ]);
    expect(packageOf('@scope/name/deep/path.js')).toBe('@scope/name');
  });

  it('finds process.env, process.argv and process.exit outside cli.ts and shutdown.ts', () => {
    const text = 'const a = process.env.X;\nconst b = process.argv;\nprocess.exit(1);\nprocess.stdout.write("ok");\n';
    expect(analyzeSource('src/app.ts', text).map((v) => [v.line, v.rule])).toEqual([
      [1, 'process-global'],
      [2, 'process-global'],
      [3, 'process-global'],
    ]);
    expect(analyzeSource('src/cli.ts', text)).toEqual([]);
  });

  it('finds empty catch blocks and callbacks, even with a comment inside, but not handled ones', () => {
    const text = [
      'try { a(); } catch {}',
      'try { a(); } catch (error) { /* ignore */ }',
      'p.catch(() => {});',
      'p.catch(() => undefined);',
      'try { a(); } catch (error) { log(error); }',
      'p.catch((error) => log(error));',
    ].join('\n');
    expect(analyzeSource('src/x.ts', text).map((v) => [v.line, v.rule])).toEqual([
      [1, 'empty-catch'],
      [2, 'empty-catch'],
      [3, 'empty-catch'],
      [4, 'empty-catch'],
    ]);
  });
});
