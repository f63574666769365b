/**
 * The image's config and contents: it runs as `node`, keeps data in the volume /data, starts
 * Node in exec form, holds only what runs, and stays within its size budget over the base.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/cli.js';
import { bytesAddedOver, inspectImage, newContainer, removeContainers, requiredEnv, runIn } from './buildah.js';

/** The goal of issue 6: at most this many bytes on top of node:24-bookworm-slim. */
const SIZE_BUDGET_BYTES = 80_000_000;

describe('the image config (buildah inspect)', () => {
  it('runs `node dist/cli.js run` in exec form as the node user in /app, with /data a volume', async () => {
    const image = await inspectImage(requiredEnv('BOTFLEET_IMAGE'));
    for (const config of [image.Docker.config, image.OCIv1.config]) {
      expect(config.User).toBe('node');
      expect(config.WorkingDir).toBe('/app');
      expect(Object.keys(config.Volumes ?? {})).toEqual(['/data']);
      // Exec form is the JSON array itself; shell form would be ["/bin/sh", "-c", "..."], and an
      // ENTRYPOINT would put something else in front of Node as PID 1.
      expect(config.Cmd).toEqual(['node', 'dist/cli.js', 'run']);
      expect(config.Entrypoint ?? []).toEqual([]);
    }
    expect(image.Docker.config.Env).toContain('NODE_ENV=production');
  });
});

describe('the image contents', () => {
  afterAll(removeContainers);

  it('holds dist/, production node_modules, schemas/, package.json and the example config, and nothing of the repo else', async () => {
    const ctr = await newContainer(requiredEnv('BOTFLEET_IMAGE'), 'contents');
    const script = [
      'ls -A /app',
      'echo ---',
      'readlink /app/data',
      'stat -c "%U:%G %a" /data',
      'ls -A /app/config',
      'echo ---',
      // Packages, as the package.json files two levels down (scopes) or one.
      'cd /app/node_modules && ls -d */package.json @*/*/package.json | sed "s|/package.json||"',
      'echo ---',
      'find /app/node_modules -name "*.map" -o -name "*.d.ts" | wc -l',
      'find /app/node_modules/sqlite3 -name node_sqlite3.node',
    ].join('; ');
    const result = await runIn(ctr, ['sh', '-c', script], { user: 'node' });
    expect(result.stderr).toBe('');
    const [top = '', data = '', modules = '', trimmed = ''] = result.stdout.split('---\n');
    expect(top.trim().split('\n')).toEqual(['config', 'data', 'dist', 'node_modules', 'package.json', 'schemas']);
    expect(data.trim().split('\n')).toEqual(['/data', 'node:node 755', 'bots.example.yaml']);
    // No dev dependency and no build tool made it into the image.
    const packages = modules.trim().split('\n');
    expect(packages).toContain('grammy');
    expect(packages).toContain('sqlite3');
    for (const dev of ['typescript', 'vitest', '@types/node', 'json-schema-to-typescript', 'node-gyp'])
      expect(packages).not.toContain(dev);
    expect(trimmed.trim().split('\n')).toEqual(['0', '/app/node_modules/sqlite3/build/Release/node_sqlite3.node']);
  });

  it('prints the version of package.json and loads sqlite3 as the node user', async () => {
    const ctr = await newContainer(requiredEnv('BOTFLEET_IMAGE'), 'version');
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const version = await runIn(ctr, ['node', 'dist/cli.js', '--version'], { user: 'node' });
    expect(version).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
    const sqlite = await runIn(ctr, ['node', '-e', "require('sqlite3'); console.log('ok')"], { user: 'node' });
    expect(sqlite).toMatchObject({ code: 0, stdout: 'ok\n' });
  });
});

describe('the image size', () => {
  it(`adds at most ${SIZE_BUDGET_BYTES / 1e6} MB to the base image`, async () => {
    const added = await bytesAddedOver(requiredEnv('BOTFLEET_IMAGE'), requiredEnv('BOTFLEET_BASE_IMAGE'));
    expect(added).toBeGreaterThan(0);
    expect(added).toBeLessThanOrEqual(SIZE_BUDGET_BYTES);
  });
});
