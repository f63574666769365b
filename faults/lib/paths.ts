/** Where the fault suite's things are: the compiled entry points it starts as processes. */
import { join } from 'node:path';
import { BUILT_CLI, REPO_ROOT } from '../../harness/paths.js';

export { REPO_ROOT };
/** The built CLI (`npm run build`). */
export const CLI_PATH = BUILT_CLI;
/** Both fakes in one process, compiled from test/fakes/serve.ts. */
export const FAKES_ENTRY = join(REPO_ROOT, 'faults', '.build', 'test', 'fakes', 'serve.js');
/** Where results are written. */
export const RESULTS_DIR = join(REPO_ROOT, 'faults', 'results');
