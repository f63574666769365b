/**
 * Waiting for a conversation's turn holds no runner slot: a busy chat never holds other chats
 * back, its own messages stay in order, its waiting list and the bot's are bounded, and a stop
 * with waiting work ends within the deadline. Real fleet against the fakes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFleetHarness, type FleetHarness, transcript } from '../support/fleet-harness.js';
import { waitFor } from '../support/wait-for.js';

const TOKEN = '2002:queue-token';
const BUSY_TEXT = 'Busy: send that again later.';

describe('conversation queue', () => {
  let h: FleetHarness;
  beforeEach(async () => {
    h = await createFleetHarness();
  });
  afterEach(async () => h.close());

  async function startBot(telegram: string): Promise<Awaited<ReturnType<FleetHarness['start']>>> {
    await h.writeConfig(
      [{ id: 'queue', token: TOKEN, yaml: `telegram: { ${telegram} }\nreplies: { busy: "${BUSY_TEXT}" }` }],
      {
        storageUrl: 'memory://',
      },
    );
    return h.start();
  }

  it('answers another chat while one chat has many messages waiting, each chat in order', async () => {
    await startBot('maxConcurrentUpdates: 3');
    h.openai.setLatency(500);
    for (let n = 1; n <= 8; n += 1) h.telegram.sendText(TOKEN, { chatId: 1, userId: 1, text: `a${n}` });
    await h.openai.waitForRequest();
    h.telegram.sendText(TOKEN, { chatId: 2, userId: 2, text: 'b1' });
    const sent = await h.telegram.waitForSent(9, { token: TOKEN, timeoutMs: 15_000 });
    const texts = sent.map((m) => m.text);
    // The other chat was answered while the busy chat still had most of its messages waiting.
    expect(texts.indexOf('echo: b1')).toBeLessThan(texts.indexOf('echo: a3'));
    expect(sent.filter((m) => m.chatId === 1).map((m) => m.text)).toEqual(
      Array.from({ length: 8 }, (_, i) => `echo: a${i + 1}`),
    );
    // Each message of the busy chat saw every earlier one answered: one at a time, in order.
    const last = h.openai.requests().filter((r) => transcript(r.body).at(-1) === 'user: a8')[0];
    expect(transcript(last?.body).slice(1)).toEqual([
      ...Array.from({ length: 7 }, (_, i) => [`user: a${i + 1}`, `assistant: echo: a${i + 1}`]).flat(),
      'user: a8',
    ]);
  });

  it('lets waiting conversations take turns, one message each, when every run is busy', async () => {
    await startBot('maxConcurrentUpdates: 1');
    h.openai.setLatency(400);
    for (const text of ['a1', 'a2', 'a3']) h.telegram.sendText(TOKEN, { chatId: 1, userId: 1, text });
    for (const text of ['b1', 'b2', 'b3']) h.telegram.sendText(TOKEN, { chatId: 2, userId: 2, text });
    const sent = await h.telegram.waitForSent(6, { token: TOKEN, timeoutMs: 10_000 });
    expect(sent.map((m) => m.text)).toEqual(['a1', 'b1', 'a2', 'b2', 'a3', 'b3'].map((t) => `echo: ${t}`));
  });

  it('tells the user once that messages beyond a full waiting list were not read, and logs each', async () => {
    await startBot('maxWaitingPerConversation: 2');
    h.openai.setLatency(400);
    h.telegram.sendText(TOKEN, { chatId: 5, userId: 5, text: 'm1' });
    await h.openai.waitForRequest();
    const later = [2, 3, 4, 5, 6].map((n) => h.telegram.sendText(TOKEN, { chatId: 5, userId: 5, text: `m${n}` }));
    const sent = await h.telegram.waitForSent(4, { token: TOKEN, timeoutMs: 10_000 });
    // Nothing is answered after the queue drained but m7, sent once the others were handled.
    h.telegram.sendText(TOKEN, { chatId: 5, userId: 5, text: 'm7' });
    const all = await h.telegram.waitForSent(5, { token: TOKEN, timeoutMs: 10_000 });
    expect(all.filter((m) => m.text !== BUSY_TEXT).map((m) => m.text)).toEqual([
      'echo: m1',
      'echo: m2',
      'echo: m3',
      'echo: m7',
    ]);
    expect(all.filter((m) => m.text === BUSY_TEXT)).toHaveLength(1);
    const m4 = h.telegram.updateTiming(TOKEN, later[2] as number)?.messageId;
    expect(sent.find((m) => m.text === BUSY_TEXT)?.replyToMessageId).toBe(m4);
    const dropped = h.logs().filter((line) => line.msg.includes('waiting list is full'));
    expect(dropped.map((line) => line.update)).toEqual(later.slice(2));
    expect(dropped.every((line) => line.level === 40 && line.chat === 5)).toBe(true);
  });

  it('stops fetching when the bot-wide waiting bound is reached, so the rest waits at Telegram', async () => {
    await startBot('maxConcurrentUpdates: 1, maxWaitingUpdates: 2');
    h.openai.setLatency(300);
    const send = (i: number): number => h.telegram.sendText(TOKEN, { chatId: 100 + i, userId: 100 + i, text: `c${i}` });
    // The runner's first getUpdates asks for 100; later ones only for its free slots.
    const ids = [send(0)];
    await h.openai.waitForRequest();
    for (let i = 1; i < 8; i += 1) ids.push(send(i));
    await h.telegram.waitForSent(1, { token: TOKEN, timeoutMs: 10_000 });
    // c0 running, c1 and c2 waiting without a slot, c3 waiting in the runner's only slot.
    const delivered = ids.filter((id) => h.telegram.deliveredAt(TOKEN, id) !== undefined);
    expect(delivered.length).toBeLessThan(ids.length);
    const sent = await h.telegram.waitForSent(8, { token: TOKEN, timeoutMs: 15_000 });
    expect(sent.map((m) => m.text).sort()).toEqual(ids.map((_, i) => `echo: c${i}`).sort());
  });

  it('stops within the deadline with messages waiting, handling none of them', async () => {
    const { fleet } = await startBot('maxConcurrentUpdates: 1');
    h.openai.setLatency(60_000);
    const ids = [1, 2, 3, 4, 5].map((n) => h.telegram.sendText(TOKEN, { chatId: 9, userId: 9, text: `w${n}` }));
    await h.openai.waitForRequest();
    await waitFor(() => ids.every((id) => h.telegram.deliveredAt(TOKEN, id) !== undefined), {
      what: 'every update fetched',
    });
    const startedAt = Date.now();
    await fleet.stop(300);
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    expect(h.openai.requests()).toHaveLength(1);
    expect(h.telegram.sentMessages(TOKEN)).toHaveLength(0);
    const dropped = h.logs().find((line) => line.msg.includes('were not handled'));
    expect(dropped?.updates).toEqual(ids.slice(1));
  });
});
