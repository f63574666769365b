/**
 * The built CLI as a real process, stopped by SIGTERM while a bot is still starting: the
 * process exits 0 promptly and that bot never polls.
 */
import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI_PATH } from './support/cli.js';
import { createFleetHarness, type FleetHarness } from './support/fleet-harness.js';
import { waitFor } from './support/wait-for.js';

const TOKEN = '8301:starting-token';

describe('botfleet run stopped while a bot is starting', () => {
  let h: FleetHarness;
  let kill: (() => void) | undefined;
  beforeEach(async () => {
    h = await createFleetHarness();
    await h.writeConfig([{ id: 'slow', token: TOKEN }], { storageUrl: 'memory://' });
  });
  afterEach(async () => {
    kill?.();
    await h.close();
  });

  /** Runs the built CLI in the harness's folder; `exit()` is set once the process exited. */
  function runCli(): { output: () => string; exit: () => { code: number | null } | undefined; term: () => void } {
    const child = spawn(process.execPath, [CLI_PATH, 'run', '--config', 'bots.yaml'], {
      cwd: h.dir,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    kill = () => child.kill('SIGKILL');
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    let exit: { code: number | null } | undefined;
    child.on('exit', (code) => (exit = { code }));
    return { output: () => output, exit: () => exit, term: () => child.kill('SIGTERM') };
  }

  it('exits 0 once stopped, even while the runner sleeps out a getUpdates 429 longer than a minute', async () => {
    // auto-retry passes on a retry_after over 60 s; the runner then sleeps it on a bare timer.
    h.telegram.failNext(TOKEN, 'getUpdates', { status: 429, retryAfter: 300 });
    const cli = runCli();
    await waitFor(() => cli.output().includes('bot is polling'), { timeoutMs: 10_000, what: 'the bot to poll' });
    await waitFor(() => h.telegram.calls(TOKEN, 'getUpdates').some((call) => call.outcome?.status === 429), {
      timeoutMs: 10_000,
      what: 'the 429 on getUpdates',
    });
    cli.term();
    // The fixed 10 s deadline and 2 s grace, then the exit; generous bound, far below 300 s.
    const { code } = await waitFor(cli.exit, { timeoutMs: 25_000, what: 'the process to exit after SIGTERM' });
    expect(code).toBe(0);
    expect(cli.output()).toContain('"msg":"stopped"');
  }, 40_000);

  it('exits 0 on SIGTERM while setMyCommands hangs, without ever polling', async () => {
    h.telegram.failNext(TOKEN, 'setMyCommands', { status: 0, hang: true });
    const cli = runCli();
    const output = cli.output;
    const child = { kill: cli.term };
    const exitOf = cli.exit;

    await h.telegram.waitForCall((call) => call.method === 'setMyCommands', { timeoutMs: 10_000 });
    child.kill();
    // Generous bound; before the fix the process never exited at all.
    const { code } = await waitFor(exitOf, { timeoutMs: 8000, what: 'the process to exit after SIGTERM' });
    expect(code).toBe(0);
    expect(output()).toContain('"msg":"stopped"');
    expect(output()).not.toContain('bot is polling');
    expect(h.telegram.calls(TOKEN, 'getUpdates')).toEqual([]);
  });
});
