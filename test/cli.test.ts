/** The built CLI as a process: commands, options, exit codes, and secrets kept out of output. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from './support/cli.js';

const TOKEN = '7777777:AAH-very-secret-token-part';
const API_KEY = 'sk-proj-very-secret-key';
const REDIS_PASSWORD = 'hunter2-redis';

describe('botfleet CLI', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'botfleet-cli-'));
    await mkdir(join(dir, 'config'));
    const yaml = [
      'version: 1',
      `storage: { url: "redis://user:${REDIS_PASSWORD}@127.0.0.1:6379/3" }`,
      'providers:',
      '  openai: { apiKey: "${KEY}" }',
      'bots:',
      '  alpha:',
      '    token: ${TOKEN}',
      '    window: { maxTurns: 5 }',
      '  beta: { token: "8888:beta-secret", enabled: false }',
      '',
    ].join('\n');
    await writeFile(join(dir, 'config/bots.yaml'), yaml);
    await writeFile(join(dir, 'other.yaml'), yaml.replace('alpha', 'gamma'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  const env = { TOKEN, KEY: API_KEY };

  it('check prints the resolved fleet with every secret masked, exit 0', async () => {
    const result = await runCli(['check'], { cwd: dir, env });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('config/bots.yaml: valid. 1 bot to run, 1 disabled.');
    expect(result.stdout).toContain('storage    redis://user:****@127.0.0.1:6379/3  (namespace "botfleet")');
    expect(result.stdout).toContain('server     off (set server.port for /healthz, /readyz and /metrics)');
    expect(result.stdout).toContain('token    7777777:****');
    expect(result.stdout).toContain('window   5 turns, 8000 tokens');
    expect(result.stdout).toContain('disabled   beta');
    for (const secret of [TOKEN, API_KEY, REDIS_PASSWORD, 'AAH-very', 'beta-secret'])
      expect(result.stdout).not.toContain(secret);
  });

  it('--config wins over $BOTFLEET_CONFIG, which wins over config/bots.yaml', async () => {
    const fromEnv = await runCli(['check'], { cwd: dir, env: { ...env, BOTFLEET_CONFIG: 'other.yaml' } });
    expect(fromEnv.stdout).toContain('other.yaml: valid.');
    expect(fromEnv.stdout).toContain('  gamma');
    const fromFlag = await runCli(['check', '-c', 'config/bots.yaml'], {
      cwd: dir,
      env: { ...env, BOTFLEET_CONFIG: 'other.yaml' },
    });
    expect(fromFlag.stdout).toContain('  alpha');
  });

  it('check exits 2 on an invalid config and masks nothing it never printed', async () => {
    const result = await runCli(['check'], { cwd: dir, env: { KEY: API_KEY } });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'config/bots.yaml:7:12 bots.alpha.token: environment variable TOKEN is not set; set it in the environment or in .env, or write ${TOKEN:-default}\n',
    );
  });

  it('--help and --version exit 0', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^botfleet: run Telegram bots/);
    expect(help.stdout).toContain('botfleet check [--config FILE]');
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('explains usage mistakes with exit 2', async () => {
    expect(await runCli([])).toMatchObject({ code: 2, stdout: expect.stringContaining('Usage:') });
    expect(await runCli(['chekc'])).toMatchObject({
      code: 2,
      stderr:
        'botfleet: unknown command "chekc"; the commands are run, check, health, chat, history (see botfleet --help)\n',
    });
    expect(await runCli(['check', '--verbose'])).toMatchObject({
      code: 2,
      stderr: 'botfleet: unknown option --verbose; see botfleet --help\n',
    });
    expect(await runCli(['check', '--config'])).toMatchObject({
      code: 2,
      stderr: 'botfleet: --config needs a value; see botfleet --help\n',
    });
  });

  it('run validates first: an invalid config exits 2 before anything starts', async () => {
    const result = await runCli(['run'], { cwd: dir, env: {} });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('bots.alpha.token: environment variable TOKEN is not set');
  });

  it('reports a misused flag as a usage error, before reading a broken config', async () => {
    expect(await runCli(['run', '--online'], { cwd: dir, env: {} })).toMatchObject({
      code: 2,
      stderr: 'botfleet: --online goes with check: botfleet check --online\n',
    });
    expect(await runCli(['check', '--no-watch', '-c', 'missing.yaml'], { cwd: dir, env: {} })).toMatchObject({
      code: 2,
      stderr: 'botfleet: --no-watch goes with run: botfleet run --no-watch\n',
    });
  });

  it('check --online masks a password in telegram.apiRoot when Telegram cannot be reached', async () => {
    const yaml = [
      'version: 1',
      'storage: { url: "memory://" }',
      'providers: { openai: { apiKey: k } }',
      'bots:',
      '  alpha:',
      '    token: "1:x"',
      '    telegram: { apiRoot: "http://user:pw-secret@127.0.0.1:9/" }',
      '',
    ].join('\n');
    await writeFile(join(dir, 'unreachable.yaml'), yaml);
    const result = await runCli(['check', '--online', '-c', 'unreachable.yaml'], { cwd: dir, env: {} });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('Bot API http://user:****@127.0.0.1:9/');
    expect(result.stdout).toMatch(/alpha +FAILED: cannot reach http:\/\/user:\*\*\*\*@127\.0\.0\.1:9\/? \(/);
    expect(`${result.stdout}${result.stderr}`).not.toContain('pw-secret');
  });
});

describe('botfleet CLI in-process', () => {
  it('can be imported without running, and main() runs one command line', async () => {
    const exitCodeBefore = process.exitCode;
    const { main, EXIT } = await import('../src/cli.js');
    expect(process.exitCode).toBe(exitCodeBefore);
    let stdout = '';
    let stderr = '';
    const io = {
      argv: ['run', '--online', '-c', 'nowhere.yaml'],
      env: {},
      cwd: REPO_ROOT,
      stdout: (text: string) => {
        stdout += text;
      },
      stderr: (text: string) => {
        stderr += text;
      },
      isTTY: false,
    };
    expect(await main(io)).toBe(EXIT.invalid);
    expect(stderr).toBe('botfleet: --online goes with check: botfleet check --online\n');
    expect(await main({ ...io, argv: ['--version'] })).toBe(EXIT.ok);
    expect(stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
