/**
 * Live reload over real HTTP with the real store: saving bots.yaml changes only what differs,
 * an invalid save changes nothing, and no message is lost.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FleetHandle } from '../../src/app.js';
import { type ReloaderHandle, startReloader } from '../../src/reload.js';
import { LEVEL } from '../support/capture-log.js';
import { createFleetHarness, type FleetHarness, type TestBot, transcript } from '../support/fleet-harness.js';
import { waitFor } from '../support/wait-for.js';

const FIRST = '9001:first-token';
const SECOND = '9002:second-token';
const first: TestBot = { id: 'first', token: FIRST, yaml: 'systemPrompt: You are First.' };
const second: TestBot = { id: 'second', token: SECOND, yaml: 'systemPrompt: You are Second.' };

describe('live reload', () => {
  let h: FleetHarness;
  let fleet: FleetHandle;
  let reloader: ReloaderHandle;
  beforeEach(async () => {
    h = await createFleetHarness();
  });
  afterEach(async () => {
    await reloader.close();
    await h.close();
  });

  const start = async (bots: TestBot[]) => {
    await h.writeConfig(bots);
    ({ fleet } = await h.start());
    reloader = startReloader({
      file: 'bots.yaml',
      cwd: h.dir,
      env: {},
      fleet,
      logger: h.logger,
      watch: true,
      debounceMs: 50,
    });
  };
  const reloads = () => h.logs().filter((l) => /^config (not )?reloaded/.test(String(l.msg)));
  const waitForReload = (count: number) => waitFor(() => reloads().length >= count, { what: `reload #${count}` });

  it('starts a bot added to the file while the first keeps answering with its history', async () => {
    await start([first]);
    h.telegram.sendText(FIRST, { chatId: 1, userId: 1, text: 'before the edit' });
    await h.telegram.waitForSent(1, { token: FIRST });

    await h.writeConfig([first, second]);
    await waitForReload(1);
    expect(reloads()[0]).toMatchObject({
      msg: 'config reloaded',
      added: ['second'],
      removed: [],
      restarted: [],
      updated: [],
    });
    await waitFor(() => h.telegram.isPolling(SECOND), { what: 'the new bot to poll' });

    h.telegram.sendText(SECOND, { chatId: 1, userId: 1, text: 'hello second' });
    h.telegram.sendText(FIRST, { chatId: 1, userId: 1, text: 'after the edit' });
    await h.telegram.waitForSent(1, { token: SECOND });
    await h.telegram.waitForSent(2, { token: FIRST });
    const toFirst = h.openai.requests().find((r) => transcript(r.body).at(-1) === 'user: after the edit');
    expect(transcript(toFirst?.body)).toEqual([
      'system: You are First.',
      'user: before the edit',
      'assistant: echo: before the edit',
      'user: after the edit',
    ]);
    expect(h.telegram.calls(FIRST, 'getMe')).toHaveLength(1);
  });

  it('logs an invalid save with its line and column and keeps both bots serving', async () => {
    await start([first, second]);
    // Saved in place this time (some editors do that), not by rename.
    const text = await readFile(h.configPath, 'utf8');
    await writeFile(h.configPath, text.replace('systemPrompt: You are Second.', 'systemPromt: You are Second.'));
    await waitForReload(1);
    const errors = h
      .logs()
      .filter((l) => l.level === LEVEL.error)
      .map((l) => l.msg);
    expect(errors[0]).toMatch(
      /^bots\.yaml:\d+:5 bots\.second\.systemPromt: unknown key; did you mean "systemPrompt"\?$/,
    );
    expect(errors[1]).toBe('config not reloaded: fix the problems above; the running fleet is unchanged');
    h.telegram.sendText(FIRST, { chatId: 2, userId: 2, text: 'still there, first?' });
    h.telegram.sendText(SECOND, { chatId: 2, userId: 2, text: 'still there, second?' });
    await h.telegram.waitForSent(1, { token: FIRST });
    await h.telegram.waitForSent(1, { token: SECOND });
    expect(
      transcript(h.openai.requests().find((r) => transcript(r.body).at(-1) === 'user: still there, second?')?.body)[0],
    ).toBe('system: You are Second.');
  });

  it('applies a new system prompt to the next message without restarting the runner', async () => {
    await start([first]);
    h.telegram.sendText(FIRST, { chatId: 3, userId: 3, text: 'one' });
    await h.telegram.waitForSent(1, { token: FIRST });
    const setupCalls = () =>
      h.telegram.calls(FIRST).filter((c) => c.method === 'getMe' || c.method === 'deleteWebhook').length;
    const before = setupCalls();

    await h.writeConfig([{ ...first, yaml: 'systemPrompt: You are First, reborn.' }]);
    await waitForReload(1);
    expect(reloads()[0]).toMatchObject({ updated: ['first'], restarted: [] });
    h.telegram.sendText(FIRST, { chatId: 3, userId: 3, text: 'two' });
    await h.telegram.waitForSent(2, { token: FIRST });
    expect(transcript(h.openai.lastRequest()?.body)[0]).toBe('system: You are First, reborn.');
    expect(setupCalls()).toBe(before);
  });

  it('stops polling a removed bot only after its in-flight reply is delivered', async () => {
    await start([first, second]);
    h.openai.setLatency(600);
    h.telegram.sendText(SECOND, { chatId: 4, userId: 4, text: 'answer me before you go' });
    await h.openai.waitForRequest();
    await h.writeConfig([first]);
    await waitForReload(1);
    expect(reloads()[0]).toMatchObject({ removed: ['second'] });
    const [reply] = h.telegram.sentMessages(SECOND, 4);
    expect(reply?.text).toBe('echo: answer me before you go');
    await waitFor(() => !h.telegram.isPolling(SECOND), { what: 'the removed bot to stop polling' });
    const lastPoll = h.telegram.calls(SECOND, 'getUpdates').at(-1);
    expect(lastPoll?.at ?? Infinity).toBeLessThan(reply?.at ?? 0);
    expect(fleet.bots.has('second')).toBe(false);
    h.openai.setLatency(0);
    h.telegram.sendText(FIRST, { chatId: 4, userId: 4, text: 'first is fine' });
    await h.telegram.waitForSent(1, { token: FIRST });
  });

  it('restarts only the bot whose token changed, and keeps the old storage when storage changes', async () => {
    await start([first, second]);
    h.telegram.sendText(FIRST, { chatId: 6, userId: 6, text: 'stored in SQLite' });
    await h.telegram.waitForSent(1, { token: FIRST });
    const third = '9003:third-token';
    h.telegram.addBot(third, { username: 'second_bot' });
    await h.writeConfig([first, { ...second, token: third }], { storageUrl: 'memory://' });
    await waitForReload(1);
    expect(reloads()[0]).toMatchObject({ restarted: ['second'], added: [], updated: [] });
    expect(h.logs().some((l) => l.level === LEVEL.warn && String(l.msg).startsWith('storage settings changed'))).toBe(
      true,
    );
    await waitFor(() => h.telegram.isPolling(third), { what: 'the new token to poll' });
    expect(h.telegram.isPolling(SECOND)).toBe(false);
    expect(h.telegram.calls(FIRST, 'getMe')).toHaveLength(1);
    expect(fleet.bots.get('second')?.state()).toBe('polling');
    // Still the SQLite store: history written before the edit is still read.
    h.telegram.sendText(FIRST, { chatId: 6, userId: 6, text: 'still SQLite?' });
    await h.telegram.waitForSent(2, { token: FIRST });
    expect(transcript(h.openai.lastRequest()?.body).slice(1)).toEqual([
      'user: stored in SQLite',
      'assistant: echo: stored in SQLite',
      'user: still SQLite?',
    ]);
  });

  it('reloads when .env changes', async () => {
    await writeFile(join(h.dir, '.env'), 'PROMPT=from dotenv one\n');
    await start([{ ...first, yaml: 'systemPrompt: ${PROMPT}' }]);
    await writeFile(join(h.dir, '.env'), 'PROMPT=from dotenv two\n');
    await waitForReload(1);
    expect(reloads()[0]).toMatchObject({ updated: ['first'] });
    h.telegram.sendText(FIRST, { chatId: 5, userId: 5, text: 'which prompt?' });
    await h.telegram.waitForSent(1, { token: FIRST });
    expect(transcript(h.openai.lastRequest()?.body)[0]).toBe('system: from dotenv two');
  });
});
