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

  it('exits 0 on SIGTERM while setMyCommands hangs, without ever polling', async () => {
    h.telegram.failNext(TOKEN, 'setMyCommands', { status: 0, hang: true });
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

    await h.telegram.waitForCall((call) => call.method === 'setMyCommands', { timeoutMs: 10_000 });
    child.kill('SIGTERM');
    // Generous bound; before the fix the process never exited at all.
    const { code } = await waitFor(() => exit, { timeoutMs: 8000, what: 'the process to exit after SIGTERM' });
    expect(code).toBe(0);
    expect(output).toContain('"msg":"stopped"');
    expect(output).not.toContain('bot is polling');
    expect(h.telegram.calls(TOKEN, 'getUpdates')).toEqual([]);
  });
});
