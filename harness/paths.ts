/** Where things are, for the bench and the fault suite alike: the repository root (found from
 * this file, compiled or not) and the built CLI. */
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
    if (parent === dir) throw new Error('cannot find the botfleet package.json above the harness');
    dir = parent;
  }
}

/** The botfleet checkout. */
export const REPO_ROOT = findRepoRoot();
/** The built CLI (`npm run build`). */
export const BUILT_CLI = join(REPO_ROOT, 'dist', 'cli.js');
