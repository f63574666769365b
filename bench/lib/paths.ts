/** Where things are: the repository root (found from this file, compiled or not) and the
 * compiled entry points the harness starts as processes. */
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
    if (parent === dir) throw new Error('bench: cannot find the botfleet package.json above the harness');
    dir = parent;
  }
}

/** The botfleet checkout. */
export const REPO_ROOT = findRepoRoot();
/** The built CLI (`npm run build`), or another build of botfleet named by $BENCH_CLI (to
 * compare two versions on the same machine state: run the bench once with each). */
export const CLI_PATH = process.env.BENCH_CLI ?? join(REPO_ROOT, 'dist', 'cli.js');
/** The compiled harness (`tsc -p bench/tsconfig.json`). */
export const BUILD_DIR = join(REPO_ROOT, 'bench', '.build');
/** Both fakes in one process, compiled from test/fakes/serve.ts. */
export const FAKES_ENTRY = join(BUILD_DIR, 'test', 'fakes', 'serve.js');
/** The seed-style baseline, compiled from bench/baseline/seed-bot.ts. */
export const BASELINE_ENTRY = join(BUILD_DIR, 'bench', 'baseline', 'seed-bot.js');
/** Preload that makes SIGUSR2 run a full GC (the memory scenario). */
export const GC_PRELOAD = join(BUILD_DIR, 'bench', 'lib', 'gc-on-signal.js');
/** Where results are written. */
export const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');
