/** Where the bench's things are: the compiled entry points it starts as processes. */
import { join } from 'node:path';
import { BUILT_CLI, REPO_ROOT } from '../../harness/paths.js';

export { REPO_ROOT };
/** The built CLI (`npm run build`), or another build of botfleet named by $BENCH_CLI (to
 * compare two versions on the same machine state: run the bench once with each). */
export const CLI_PATH = process.env.BENCH_CLI ?? BUILT_CLI;
/** The compiled harness (`node harness/build.mjs bench`). */
export const BUILD_DIR = join(REPO_ROOT, 'bench', '.build');
/** Both fakes in one process, compiled from test/fakes/serve.ts. */
export const FAKES_ENTRY = join(BUILD_DIR, 'test', 'fakes', 'serve.js');
/** The seed-style baseline, compiled from bench/baseline/seed-bot.ts. */
export const BASELINE_ENTRY = join(BUILD_DIR, 'bench', 'baseline', 'seed-bot.js');
/** Preload that makes SIGUSR2 run a full GC (the memory scenario). */
export const GC_PRELOAD = join(BUILD_DIR, 'bench', 'lib', 'gc-on-signal.js');
/** Where results are written. */
export const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');
