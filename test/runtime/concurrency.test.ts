/** Different conversations run concurrently; one conversation's messages run in order. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFleetHarness, type FleetHarness, transcript } from '../support/fleet-harness.js';

const TOKEN = '2001:busy-token';

describe('concurrency', () => {
  let h: FleetHarness;
  beforeEach(async () => {
    h = await createFleetHarness();
    await h.writeConfig([{ id: 'busy', token: TOKEN }], { storageUrl: 'memory://' });
  });
  afterEach(async () => h.close());

  it('answers 20 chats with a 1 s model all at once, not one after another', async () => {
    await h.start();
    h.openai.setLatency(1000);
    for (let chat = 1; chat <= 20; chat += 1)
      h.telegram.sendText(TOKEN, { chatId: 7000 + chat, userId: 7000 + chat, text: `hello from ${chat}` });
    const sent = await h.telegram.waitForSent(20, { token: TOKEN, timeoutMs: 15_000 });
    // Every request reached the model before the first answer came back: none waited for another.
    const requests = h.openai.requests();
    const firstAnswerAt = Math.min(...requests.map((r) => r.outcome?.endedAt ?? Number.POSITIVE_INFINITY));
    expect(requests.filter((r) => r.at < firstAnswerAt)).toHaveLength(20);
    expect(new Set(sent.map((m) => m.chatId)).size).toBe(20);
    for (const message of sent) expect(message.text).toBe(`echo: hello from ${message.chatId - 7000}`);
  });

  it('answers two quick messages of one chat in order, the second seeing the first', async () => {
    await h.start();
    h.openai.enqueueReply({ content: 'first answer', delayMs: 300 }, { content: 'second answer', delayMs: 0 });
    h.telegram.sendText(TOKEN, { chatId: 42, userId: 42, text: 'one' });
    h.telegram.sendText(TOKEN, { chatId: 42, userId: 42, text: 'two' });
    const sent = await h.telegram.waitForSent(2, { token: TOKEN });
    expect(sent.map((m) => m.text)).toEqual(['first answer', 'second answer']);
    const [, second] = h.openai.requests();
    expect(transcript(second?.body).slice(1)).toEqual(['user: one', 'assistant: first answer', 'user: two']);
  });
});
