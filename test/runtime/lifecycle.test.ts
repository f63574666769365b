/**
 * A bot's lifecycle against the fake Bot API: a stop always ends (even mid-start or with every
 * update slot busy), no Telegram call outlives the shutdown deadline, and a restarted runner
 * does not fetch again what the previous one already took.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FleetHandle, startFleet } from '../../src/app.js';
import { loadConfig } from '../../src/config/load-config.js';
import { TYPING_DELAY_MS } from '../../src/telegram/delivery.js';
import { CONFLICT_POLL } from '../fakes/telegram-api.js';
import { LEVEL } from '../support/capture-log.js';
import { createFleetHarness, FAST_LIFECYCLE, type FleetHarness } from '../support/fleet-harness.js';
import { waitFor } from '../support/wait-for.js';

const TOKEN = '4501:life-token';

/** Resolves with how long `work` took, or 'still running' once `boundMs` passed: a bound
 * that makes a hang fail the test with a clear value instead of a test timeout. */
async function timed(work: Promise<unknown>, boundMs: number): Promise<number | 'still running'> {
  const startedAt = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<'still running'>((resolve) => (timer = setTimeout(resolve, boundMs, 'still running')));
  try {
    return await Promise.race([work.then(() => Date.now() - startedAt), bound]);
  } finally {
    clearTimeout(timer);
  }
}

describe('stopping a bot that is still starting', () => {
  let h: FleetHarness;
  let fleet: FleetHandle | undefined;
  beforeEach(async () => {
    h = await createFleetHarness();
    await h.writeConfig([{ id: 'life', token: TOKEN }], { storageUrl: 'memory://' });
  });
  afterEach(async () => {
    await fleet?.stop(500);
    fleet = undefined;
    await h.close();
  });

  it.each(['getMe', 'deleteWebhook', 'setMyCommands'])(
    'stops promptly while %s is in flight, and never starts polling',
    async (method) => {
      h.telegram.failNext(TOKEN, method, { status: 0, hang: true });
      const config = await loadConfig({ file: 'bots.yaml', cwd: h.dir, env: {} });
      // Not h.start(): that waits for the bot to poll, which is what this bot must never do.
      fleet = await startFleet(config, h.logger, { lifecycle: FAST_LIFECYCLE, typingIntervalMs: 200 });
      await h.telegram.waitForCall((call) => call.method === method);
      expect(await timed(fleet.stop(1000), 4000)).toBeLessThan(4000);
      expect(fleet.bots.get('life')?.state()).toBe('stopped');
      expect(h.telegram.calls(TOKEN, 'getUpdates')).toEqual([]);
      expect(h.logs().filter((l) => l.msg === 'bot is polling')).toEqual([]);
    },
  );
});

describe('a reload that removes a bot still starting', () => {
  let h: FleetHarness;
  beforeEach(async () => {
    h = await createFleetHarness();
  });
  afterEach(async () => h.close());

  it('stops it promptly, it never polls, and the other bot keeps answering', async () => {
    const other = '4502:other-token';
    await h.writeConfig(
      [
        { id: 'life', token: TOKEN },
        { id: 'other', token: other },
      ],
      { storageUrl: 'memory://' },
    );
    h.telegram.failNext(TOKEN, 'setMyCommands', { status: 0, hang: true });
    const config = await loadConfig({ file: 'bots.yaml', cwd: h.dir, env: {} });
    const fleet = await startFleet(config, h.logger, { lifecycle: FAST_LIFECYCLE, typingIntervalMs: 200 });
    try {
      await h.telegram.waitForCall((call) => call.token === TOKEN && call.method === 'setMyCommands');
      const stillStarting = fleet.bots.get('life');
      await h.writeConfig([{ id: 'other', token: other }], { storageUrl: 'memory://' });
      const next = await loadConfig({ file: 'bots.yaml', cwd: h.dir, env: {} });
      expect(await timed(fleet.apply(next), 4000)).toBeLessThan(4000);
      expect(stillStarting?.state()).toBe('stopped');
      expect(h.telegram.calls(TOKEN, 'getUpdates')).toEqual([]);
      h.telegram.sendText(other, { chatId: 2, userId: 2, text: 'still here?' });
      await h.telegram.waitForSent(1, { token: other });
    } finally {
      await fleet.stop(500);
    }
  });
});

describe('the shutdown deadline', () => {
  let h: FleetHarness;
  beforeEach(async () => {
    h = await createFleetHarness();
  });
  afterEach(async () => h.close());

  it('bounds the whole stop when every update slot is held by a waiting message', async () => {
    // One slot, one message allowed to wait outside it: the third message of the chat can only
    // wait inside the slot, so the runner's loop cannot end until the drain aborts the answer.
    const yaml = 'telegram: { maxConcurrentUpdates: 1, maxWaitingUpdates: 1, maxWaitingPerConversation: 5 }';
    await h.writeConfig([{ id: 'life', token: TOKEN, yaml }], {
      storageUrl: 'memory://',
      provider: 'timeoutMs: 30000',
    });
    const { fleet } = await h.start();
    h.openai.failNext({ kind: 'hang', times: 5 });
    for (const text of ['first', 'second', 'third', 'fourth'])
      h.telegram.sendText(TOKEN, { chatId: 5, userId: 5, text });
    const request = await h.openai.waitForRequest();
    const fetched = (): boolean =>
      h.telegram
        .calls(TOKEN, 'getUpdates')
        .some((call) => String(JSON.stringify(call.outcome?.response)).includes('third'));
    await waitFor(fetched, { what: 'the third message fetched' });
    // Generous bound: deadline 300 ms plus the 2 s the aborted work gets to unwind.
    expect(await timed(fleet.stop(300), 5000)).toBeLessThan(5000);
    expect((await h.openai.waitForOutcome(request)).aborted).toBe(true);
    expect(h.telegram.sentMessages(TOKEN, 5)).toEqual([]);
    expect(fleet.bots.get('life')?.state()).toBe('stopped');
  });

  it('sends no "typing…" after stop() resolved, even one waiting out a 429', async () => {
    await h.writeConfig([{ id: 'life', token: TOKEN }], { storageUrl: 'memory://' });
    const { fleet } = await h.start();
    h.openai.setLatency(TYPING_DELAY_MS + 300); // slow enough to show "typing…"
    h.telegram.failNext(TOKEN, 'sendChatAction', { status: 429, retryAfter: 2 });
    h.telegram.sendText(TOKEN, { chatId: 7, userId: 7, text: 'typing is flood-limited' });
    await h.telegram.waitForSent(1, { token: TOKEN });
    await waitFor(() => h.telegram.calls(TOKEN, 'sendChatAction').some((call) => call.outcome?.status === 429), {
      what: 'the 429 on sendChatAction',
    });
    expect(await timed(fleet.stop(300), 5000)).toBeLessThan(5000);
    // The ping's retry would come 2 s after its 429: wait past that for a call that must not come.
    const since = h.telegram.nextSeq();
    await expect(h.telegram.waitForCall(() => true, { since, timeoutMs: 2500 })).rejects.toThrow(/timed out/);
  });

  it('aborts a sendMessage waiting out a 429 at the deadline; nothing is sent after stop', async () => {
    await h.writeConfig([{ id: 'life', token: TOKEN }], { storageUrl: 'memory://' });
    const { fleet } = await h.start();
    // retry_after 2 s outlasts the 300 ms deadline but not the 2 s grace after it: a wait that
    // ignores the abort sends its retry before stop() resolves.
    h.telegram.failNext(TOKEN, 'sendMessage', { status: 429, retryAfter: 2 });
    h.telegram.sendText(TOKEN, { chatId: 6, userId: 6, text: 'answered during a flood wait' });
    await waitFor(() => h.telegram.calls(TOKEN, 'sendMessage').find((call) => call.outcome?.status === 429), {
      what: 'the 429 on sendMessage',
    });
    expect(await timed(fleet.stop(300), 5000)).toBeLessThan(5000);
    expect(h.telegram.calls(TOKEN, 'sendMessage')).toHaveLength(1);
    expect(h.logs().filter((l) => String(l.msg).startsWith('replies still running after'))).toEqual([]);
    // The retry would have come 2 s after the 429: wait past that for a call that must not come.
    const since = h.telegram.nextSeq();
    await expect(
      h.telegram.waitForCall((call) => call.method === 'sendMessage', { since, timeoutMs: 2500 }),
    ).rejects.toThrow(/timed out/);
    expect(h.telegram.sentMessages(TOKEN, 6)).toEqual([]);
    // An abort at the deadline is shutdown doing its job, not a delivery error.
    expect(h.logs().filter((l) => l.msg === 'could not send a message')).toEqual([]);
    expect(h.logs().find((l) => l.msg.endsWith('aborted by shutdown (its deadline passed)'))?.level).toBe(LEVEL.warn);
  });
});

describe('runner restarts', () => {
  let h: FleetHarness;
  beforeEach(async () => {
    h = await createFleetHarness();
    await h.writeConfig([{ id: 'life', token: TOKEN }], { storageUrl: 'memory://' });
  });
  afterEach(async () => h.close());

  it.each([
    ['a 409', { status: 409, description: CONFLICT_POLL }],
    ['a network failure', { status: 0, dropConnection: true }],
  ])('a runner restarted after %s does not fetch an already handled /help again', async (_name, failure) => {
    await h.start();
    await waitFor(() => h.telegram.isPolling(TOKEN), { what: 'the first long poll' });
    // The poll that would confirm /help fails: Telegram still holds /help as unconfirmed.
    h.telegram.failNext(TOKEN, 'getUpdates', failure);
    const help = h.telegram.sendText(TOKEN, { chatId: 8, userId: 8, text: '/help' });
    // Outcomes are filled in when answered, so wait on the records rather than on waitForCall.
    const failed = await waitFor(
      () => h.telegram.calls(TOKEN, 'getUpdates').find((call) => call.outcome?.injected === true),
      { what: 'the failed getUpdates' },
    );
    await h.telegram.waitForCall((c) => c.method === 'getUpdates', { since: failed.seq + 1 });
    await waitFor(() => h.telegram.isPolling(TOKEN), { what: 'the restarted runner to poll' });

    h.telegram.sendText(TOKEN, { chatId: 8, userId: 8, text: 'after the restart' });
    await waitFor(() => h.telegram.sentMessages(TOKEN, 8).some((m) => m.text === 'echo: after the restart'), {
      what: 'the answer after the restart',
    });
    expect(h.telegram.updateTiming(TOKEN, help)?.deliveries).toBe(1);
    expect(h.telegram.sentMessages(TOKEN, 8)).toHaveLength(2);
    expect(h.logs().filter((l) => l.level >= LEVEL.error)).toEqual([]);
  });
});

describe('sending at most once', () => {
  let h: FleetHarness;
  beforeEach(async () => {
    h = await createFleetHarness();
    await h.writeConfig([{ id: 'life', token: TOKEN }], { storageUrl: 'memory://' });
  });
  afterEach(async () => h.close());

  it('does not resend a reply whose connection broke after the request went out', async () => {
    await h.start();
    // Telegram may have delivered the message before the connection broke: a resend could
    // show the user the same reply twice.
    h.telegram.failNext(TOKEN, 'sendMessage', { status: 0, dropConnection: true });
    h.telegram.sendText(TOKEN, { chatId: 9, userId: 9, text: 'lost on the way back' });
    h.telegram.sendText(TOKEN, { chatId: 9, userId: 9, text: 'next one' });
    // One conversation is handled in order: once the second reply is out, the first is done.
    await waitFor(() => h.telegram.sentMessages(TOKEN, 9).some((m) => m.text === 'echo: next one'), {
      what: 'the second reply',
    });
    expect(h.telegram.calls(TOKEN, 'sendMessage')).toHaveLength(2);
    expect(h.telegram.sentMessages(TOKEN, 9).map((m) => m.text)).toEqual(['echo: next one']);
  });
});
