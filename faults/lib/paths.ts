/** Where things are: the repository root (found from this file, compiled or not) and the
 * compiled entry points the suite starts as processes. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'botfleet')
      return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('faults: cannot find the botfleet package.json above the suite');
    dir = parent;
  }
}

/** The botfleet checkout. */
export const REPO_ROOT = findRepoRoot();
/** The built CLI (`npm run build`). */
export const CLI_PATH = join(REPO_ROOT, 'dist', 'cli.js');
/** Both fakes in one process, compiled from test/fakes/serve.ts. */
export const FAKES_ENTRY = join(REPO_ROOT, 'faults', '.build', 'test', 'fakes', 'serve.js');
/** Where results are written. */
export const RESULTS_DIR = join(REPO_ROOT, 'faults', 'results');
