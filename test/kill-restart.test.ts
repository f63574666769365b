/**
 * `botfleet run` on a SQLite file, killed with SIGKILL while its model is answering: the
 * updates it had fetched (and Telegram had been told were seen, by the next getUpdates) are
 * replayed from the store's journal after the restart, and each is answered exactly once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStoreWithKeyv } from '../src/memory/open-store.js';
import { captureLog } from './support/capture-log.js';
import { CLI_PATH, runCli } from './support/cli.js';
import { createFleetHarness, type FleetHarness } from './support/fleet-harness.js';
import { waitFor } from './support/wait-for.js';

const BOT = { id: 'k', token: '8600:kill-restart-token' };
const CHATS = [101, 102, 103, 104, 105];

describe('kill -9 of botfleet run on a SQLite store', () => {
  let h: FleetHarness;
  let children: ChildProcess[] = [];
  beforeEach(async () => {
    h = await createFleetHarness();
    await h.writeConfig([BOT]);
  });
  afterEach(async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map((child) => (child.exitCode === null ? exitOf(child) : undefined)));
    children = [];
    await h.close();
  });

  const launch = (): { child: ChildProcess; output: () => string } => {
    const child = spawn(process.execPath, [CLI_PATH, 'run', '--config', h.configPath, '--no-watch'], {
      cwd: h.dir,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    children.push(child);
    return { child, output: () => output };
  };
  const replies = (): number[] => CHATS.map((chat) => h.telegram.sentMessages(BOT.token, chat).length);

  it('answers every fetched but unanswered message exactly once after the restart', async () => {
    const first = launch();
    await waitFor(() => h.telegram.calls(BOT.token, 'getUpdates').length >= 1, {
      timeoutMs: 15_000,
      what: `the first poll (output: ${first.output()})`,
    });
    h.openai.setLatency(3000);
    const modelSeq = h.openai.nextSeq();
    const ids = CHATS.map((chat) =>
      h.telegram.sendText(BOT.token, { chatId: chat, userId: chat, text: `hello ${chat}` }),
    );
    await waitFor(() => h.openai.requestsSince(modelSeq).length >= CHATS.length, {
      timeoutMs: 15_000,
      what: 'the model requests of every message',
    });
    // The runner's next getUpdates has confirmed them to Telegram: only the journal has them now.
    const confirmed = () =>
      h.telegram.calls(BOT.token, 'getUpdates').some((call) => Number(call.params.offset) > Math.max(...ids));
    await waitFor(confirmed, {
      timeoutMs: 15_000,
      what: 'the poll that confirms the fetched updates',
    });
    first.child.kill('SIGKILL');
    await exitOf(first.child);
    expect(replies()).toEqual(CHATS.map(() => 0));

    h.openai.setLatency(0);
    const restartSeq = h.openai.nextSeq();
    const second = launch();
    await waitFor(() => replies().every((count) => count >= 1), {
      timeoutMs: 20_000,
      what: `every message answered after the restart (replies ${replies().join(',')}; output: ${second.output()})`,
    });
    // Each replayed update went to the model once, and nothing more is on its way.
    await waitFor(() => h.openai.inFlight() === 0, { timeoutMs: 15_000, what: 'no model request in flight' });
    expect(h.openai.requestsSince(restartSeq)).toHaveLength(CHATS.length);
    expect(replies()).toEqual(CHATS.map(() => 1));

    // The bot settled the replays: the journal write of the next batch removes them, so the
    // journal's bound counts updates still to be handled.
    // (Two, one after the other: the first may be fetched before the last replay's turn is stored.)
    for (const [i, text] of ['later', 'later again'].entries()) {
      h.telegram.sendText(BOT.token, { chatId: CHATS[0] as number, userId: CHATS[0] as number, text });
      await waitFor(() => replies()[0] === 2 + i, { timeoutMs: 15_000, what: `"${text}" answered` });
    }

    // The journal and offset keys are no conversations: `history list` shows the five chats only.
    second.child.kill('SIGTERM');
    await exitOf(second.child);
    const listed = await runCli(['history', 'list', BOT.id, '--config', h.configPath], { cwd: h.dir });
    expect(listed.stderr).toBe('');
    expect(listed.code).toBe(0);
    expect(listed.stdout).not.toContain('fleet');
    for (const chat of CHATS) expect(listed.stdout).toContain(`${chat}`);
    const { store } = await openStoreWithKeyv({
      storage: { url: `sqlite://${join(h.dir, 'data', 'botfleet.sqlite')}`, namespace: h.namespace },
      logger: captureLog().logger,
    });
    try {
      const journaled = (await store.updateJournal.readJournal(BOT.id, '8600')).map(
        (text) => (JSON.parse(text) as { update_id: number }).update_id,
      );
      expect(journaled.length).toBeGreaterThan(0);
      expect(journaled.filter((id) => ids.includes(id))).toEqual([]);
    } finally {
      await store.close();
    }
  }, 90_000);
});

function exitOf(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.on('exit', () => resolve());
  });
}
