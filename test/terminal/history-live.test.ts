/**
 * `botfleet history export` as a process while `botfleet run` serves traffic on the same
 * SQLite file (WAL): every export succeeds and holds only whole, valid turns, never fewer
 * than the one before, and the last one holds every answered turn.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI_PATH, runCli } from '../support/cli.js';
import { createFleetHarness, type FleetHarness } from '../support/fleet-harness.js';
import { waitFor } from '../support/wait-for.js';

const TOKEN = '8401:live-token';
const CHATS = [101, 102, 103, 104, 105];
const ROUNDS = 6;

describe('history export while run serves the same SQLite file', () => {
  let h: FleetHarness;
  let child: ChildProcess | undefined;
  beforeEach(async () => {
    h = await createFleetHarness();
    await h.writeConfig([{ id: 'live', token: TOKEN }]);
  });
  afterEach(async () => {
    child?.kill('SIGKILL');
    await h.close();
  });

  it('reads whole turns only, as many or more each time, and all of them at the end', async () => {
    let output = '';
    child = spawn(process.execPath, [CLI_PATH, 'run', '--config', 'bots.yaml'], {
      cwd: h.dir,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    await waitFor(() => output.includes('bot is polling'), { timeoutMs: 10_000, what: 'the bot to poll' });
    h.openai.setLatency(50);

    const exportTurns = async (): Promise<string[]> => {
      const result = await runCli(['history', 'export', 'live', '--config', 'bots.yaml'], { cwd: h.dir });
      expect(result).toMatchObject({ code: 0, stderr: '' });
      const lines = result.stdout === '' ? [] : result.stdout.trimEnd().split('\n');
      for (const line of lines) expect(JSON.parse(line)).toMatchObject({ bot: 'live', user: expect.any(String) });
      return lines;
    };
    let seen = 0;
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const chat of CHATS) h.telegram.sendText(TOKEN, { chatId: chat, userId: chat, text: `r${round} c${chat}` });
      const lines = await exportTurns();
      expect(lines.length).toBeGreaterThanOrEqual(seen);
      seen = lines.length;
    }
    await h.telegram.waitForSent(ROUNDS * CHATS.length, { token: TOKEN, timeoutMs: 20_000 });
    await waitFor(async () => (await exportTurns()).length === ROUNDS * CHATS.length, {
      timeoutMs: 10_000,
      what: 'every turn stored',
    });
    const all = (await exportTurns()).map(
      (line) => JSON.parse(line) as { chat: number; user: string; assistant: string },
    );
    for (const turn of all) expect(turn.assistant).toBe(`echo: ${turn.user}`);
    expect(new Set(all.map((turn) => turn.user)).size).toBe(ROUNDS * CHATS.length);
  }, 60_000);
});
