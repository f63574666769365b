import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * The container tests: they need a built image (BOTFLEET_IMAGE) and buildah, so they are not
 * part of `npm test` (whose config includes only `*.test.ts`). `.ci/run` builds the image and
 * runs them: `vitest run --config test/container/vitest.config.ts`.
 */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['test/container/**/*.container.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // One container at a time: two cores, and each container start copies a root filesystem.
    fileParallelism: false,
    pool: 'forks',
  },
});
