/**
 * The fleet-wide limit (src/telegram/fleet-limit.ts): over every bot together, no more runs at
 * once than the fleet's cap, each message still answered once and in order per chat, bots take
 * turns so one bot's flood never holds another back, and once the fleet's waiting updates are
 * reached no bot fetches: the rest waits at Telegram. Real fleet against the fakes; the model's
 * concurrency is read from the fake's own request log.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startReloader } from '../../src/reload.js';
import type { RecordedRequest } from '../fakes/openai-types.js';
import { createFleetHarness, type FleetHarness } from '../support/fleet-harness.js';
import { waitFor } from '../support/wait-for.js';

const TOKENS = ['3101:fleet-a', '3102:fleet-b', '3103:fleet-c'] as const;
const ADDED = '3104:fleet-d';
const idOf = (token: string): string => `bot${token.slice(0, 4)}`;

/** Most model requests under way at once, from the fake's arrival and end times. */
function mostAtOnce(requests: readonly RecordedRequest[]): number {
  const events = requests.flatMap((r) => [
    { at: r.at, change: 1 },
    { at: r.outcome?.endedAt ?? Number.POSITIVE_INFINITY, change: -1 },
  ]);
  events.sort((a, b) => a.at - b.at || a.change - b.change);
  let now = 0;
  let most = 0;
  for (const event of events) {
    now += event.change;
    most = Math.max(most, now);
  }
  return most;
}

describe('fleet-wide limit', () => {
  let h: FleetHarness;
  beforeEach(async () => {
    h = await createFleetHarness();
    await h.writeConfig(
      TOKENS.map((token) => ({ id: idOf(token), token })),
      { storageUrl: 'memory://' },
    );
  });
  afterEach(async () => h.close());

  it('runs no more than the cap at once over all bots, each message answered once, in order per chat', async () => {
    await h.start({ fleetLimits: { maxRunning: 2, maxWaiting: 4 } });
    h.openai.setLatency(150);
    const expected = new Map<string, string[]>(); // token/chat → texts in order
    TOKENS.forEach((token, b) => {
      for (let chat = 1; chat <= 3; chat += 1)
        for (let n = 1; n <= 3; n += 1) {
          const text = `b${b}c${chat}m${n}`;
          h.telegram.sendText(token, { chatId: chat, userId: chat, text });
          const key = `${token}/${chat}`;
          expected.set(key, [...(expected.get(key) ?? []), `echo: ${text}`]);
        }
    });
    const total = TOKENS.length * 9;
    const sent = await h.telegram.waitForSent(total, { timeoutMs: 30_000 });
    expect(sent).toHaveLength(total);
    for (const [key, texts] of expected) {
      const [token, chat] = key.split('/');
      expect(h.telegram.sentMessages(token, Number(chat)).map((m) => m.text)).toEqual(texts);
    }
    expect(h.openai.requests()).toHaveLength(total);
    // Without the fleet limit each of the 9 chats runs at once: up to 9 model requests together.
    expect(mostAtOnce(h.openai.requests())).toBeLessThanOrEqual(2);
  });

  it("answers another bot's chat while one bot floods the whole fleet's runs", async () => {
    await h.start({ fleetLimits: { maxRunning: 2, maxWaiting: 8 } });
    h.openai.setLatency(200);
    const [flooded, other] = TOKENS;
    for (let chat = 1; chat <= 10; chat += 1)
      h.telegram.sendText(flooded, { chatId: chat, userId: chat, text: `f${chat}` });
    await h.openai.waitForRequests(2);
    h.telegram.sendText(other, { chatId: 77, userId: 77, text: 'other' });
    await h.telegram.waitForSent(11, { timeoutMs: 30_000 });
    const order = h.openai.requests().map((r) => JSON.stringify(r.body?.messages).includes('other'));
    // Bots take turns for the fleet's runs: the other bot's message is among the next runs after
    // the two that were going, not behind the whole flood.
    expect(order.indexOf(true)).toBeLessThanOrEqual(4);
    expect(mostAtOnce(h.openai.requests())).toBeLessThanOrEqual(2);
    expect(h.telegram.sentMessages(other, 77).map((m) => m.text)).toEqual(['echo: other']);
  });

  it('stops every bot fetching once the fleet has its waiting updates: the rest waits at Telegram', async () => {
    await h.start({ fleetLimits: { maxRunning: 1, maxWaiting: 2 } });
    h.openai.setLatency(300);
    const [a, b] = TOKENS;
    const ids: [string, number][] = [];
    ids.push([a, h.telegram.sendText(a, { chatId: 1, userId: 1, text: 'a1' })]);
    await h.openai.waitForRequest();
    for (let chat = 2; chat <= 6; chat += 1) {
      ids.push([a, h.telegram.sendText(a, { chatId: chat, userId: chat, text: `a${chat}` })]);
      ids.push([b, h.telegram.sendText(b, { chatId: chat, userId: chat, text: `b${chat}` })]);
    }
    await h.telegram.waitForSent(1, { timeoutMs: 10_000 });
    // One running, about two waiting (plus a poll's worth per bot): most are still at Telegram.
    const delivered = ids.filter(([token, id]) => h.telegram.deliveredAt(token, id) !== undefined);
    expect(delivered.length).toBeLessThan(ids.length - 3);
    await h.telegram.waitForSent(ids.length, { timeoutMs: 30_000 });
    // No poll asked for more than a bot's even share of the fleet's waiting room (2 over 3 bots).
    const limits = TOKENS.flatMap((token) => h.telegram.calls(token, 'getUpdates').map((c) => c.params.limit));
    expect(limits.every((limit) => Number(limit) <= 1)).toBe(true);
  });

  it('asks Telegram for a full batch after a big one, not for the one runner slot just freed', async () => {
    // A flood from one chat: 10 wait, the rest are turned away as busy, so every update leaves
    // the runner at once. The runner's pace after a batch of 100 is the one slot freed first;
    // polls that asked for that (1, then 99, …) doubled the round trips a burst needs.
    await h.writeConfig([{ id: idOf(TOKENS[0]), token: TOKENS[0] }], { storageUrl: 'memory://' });
    await h.start();
    h.openai.setLatency(200);
    for (let n = 0; n < 250; n += 1) h.telegram.sendText(TOKENS[0], { chatId: 1, userId: 1, text: `m${n}` });
    await waitFor(() => h.telegram.calls(TOKENS[0], 'getUpdates').some((c) => Number(c.params.offset) > 250), {
      what: 'every update fetched',
    });
    const limits = h.telegram.calls(TOKENS[0], 'getUpdates').map((c) => Number(c.params.limit));
    expect(limits.every((limit) => limit === 100)).toBe(true);
  });

  it('a bot removed by a live reload leaves the limit and one added joins it, still within the cap', async () => {
    const { fleet } = await h.start({ fleetLimits: { maxRunning: 1, maxWaiting: 4 } });
    const reloader = startReloader({
      file: 'bots.yaml',
      cwd: h.dir,
      env: {},
      fleet,
      logger: h.logger,
      watch: true,
      debounceMs: 50,
    });
    try {
      h.openai.setLatency(300);
      const [removed, stays] = TOKENS;
      for (let chat = 1; chat <= 3; chat += 1)
        h.telegram.sendText(removed, { chatId: chat, userId: chat, text: `r${chat}` });
      await h.openai.waitForRequest();
      h.telegram.sendText(stays, { chatId: 9, userId: 9, text: 'stays' });
      await h.writeConfig(
        [...TOKENS.slice(1), ADDED].map((token) => ({ id: idOf(token), token })),
        { storageUrl: 'memory://' },
      );
      const reloaded = await waitFor(() => h.logs().find((l) => l.msg === 'config reloaded'), { what: 'the reload' });
      expect(reloaded).toMatchObject({ added: [idOf(ADDED)], removed: [idOf(removed)], restarted: [] });
      await waitFor(() => h.telegram.isPolling(ADDED), { what: 'the added bot to poll' });
      h.telegram.sendText(ADDED, { chatId: 5, userId: 5, text: 'added' });
      await h.telegram.waitForSent(1, { token: stays, timeoutMs: 15_000 });
      await h.telegram.waitForSent(1, { token: ADDED, timeoutMs: 15_000 });
      expect(h.telegram.sentMessages(ADDED, 5).map((m) => m.text)).toEqual(['echo: added']);
      expect(mostAtOnce(h.openai.requests())).toBeLessThanOrEqual(1);
    } finally {
      await reloader.close();
    }
  });
});
