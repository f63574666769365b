/** The README's examples are real: its error example is what the CLI prints for the fixture. */
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from './support/cli.js';

describe('README.md', () => {
  it('shows exactly what botfleet check prints for test/fixtures/config/readme-errors.yaml', async () => {
    const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
    const block = /```text\n\$ npx botfleet check\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const dir = await mkdtemp(join(tmpdir(), 'botfleet-readme-'));
    try {
      await mkdir(join(dir, 'config'));
      await copyFile(join(REPO_ROOT, 'test/fixtures/config/readme-errors.yaml'), join(dir, 'config/bots.yaml'));
      const result = await runCli(['check'], { cwd: dir });
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(block);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('gives a reason for every dependency in package.json', async () => {
    const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as Record<
      string,
      Record<string, string>
    >;
    const names = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})];
    const table = readme.slice(readme.indexOf('### Dependencies and why'));
    expect(names.filter((name) => !table.includes(`\`${name}\``))).toEqual([]);
  });
});
