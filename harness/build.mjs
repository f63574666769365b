/**
 * Compiles the bench or the fault suite: `node harness/build.mjs bench|faults` compiles every
 * NAME/**\/*.ts, the shared harness/*.ts and the fakes they start (test/fakes/*.ts without the
 * tests) into NAME/.build/, types erased, nothing checked, in a second or two. Type-checking is
 * `npm run typecheck` (test/tsconfig.json includes bench/, faults/ and harness/).
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const name = process.argv[2];
if (name !== 'bench' && name !== 'faults') {
  process.stderr.write('usage: node harness/build.mjs bench|faults\n');
  process.exit(2);
}
const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, name, '.build');

async function sources(dir, keep) {
  const entries = await readdir(join(root, dir), { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .filter((file) => !file.startsWith(join(name, '.build')) && keep(file));
}

const files = [
  ...(await sources(name, () => true)),
  ...(await sources('harness', () => true)),
  ...(await sources(join('test', 'fakes'), (file) => !file.endsWith('.test.ts') && !file.endsWith('spawn-fakes.ts'))),
];
await rm(out, { recursive: true, force: true });
for (const file of files) {
  const { outputText } = ts.transpileModule(await readFile(join(root, file), 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    fileName: file,
  });
  const target = join(out, file.replace(/\.ts$/, '.js'));
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, outputText);
}
process.stdout.write(`${name}: compiled ${files.length} files into ${relative(root, out)}/\n`);
