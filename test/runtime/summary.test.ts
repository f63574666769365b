/**
 * window.summary on the real fleet over the fake Bot API and fake OpenAI (real HTTP), on SQLite
 * and the real Redis: a fact said in turn 1 of 60 is still in the request of turn 60 with
 * `maxTurns: 6`, every request stays within `maxTokens`, summaries cost about one call per turn
 * that left the window (counted in /metrics apart from the answers), and /reset forgets it.
 */
import { encode } from 'gpt-tokenizer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSummaryRequest, summarizingReply } from '../fakes/openai-replies.js';
import type { RecordedRequest } from '../fakes/openai-types.js';
import { metricsText, sample } from '../ops/ops-http.js';
import { createFleetHarness, type FleetHarness, transcript } from '../support/fleet-harness.js';
import { waitFor } from '../support/wait-for.js';

const USER = 6001;
const BOT = { id: 'keeper', token: '6101:keeper-token' };
const MAX_TOKENS = 700;

/** Tokens of a recorded request as the prompt window counts them (o200k + 3 per message + 3). */
function tokensOf(request: RecordedRequest): number {
  const messages = (request.body?.messages ?? []) as { content: string }[];
  return messages.reduce((sum, message) => sum + encode(message.content).length + 3, 3);
}

describe.each([
  ['SQLite', 'sqlite://data/botfleet.sqlite'],
  ['Redis', 'redis://127.0.0.1:6379/0'],
])('window.summary on %s', (_name, storageUrl) => {
  let h: FleetHarness;
  beforeEach(async () => {
    h = await createFleetHarness();
    await h.writeConfig(
      [
        {
          ...BOT,
          yaml: `window: { maxTurns: 6, maxTokens: ${MAX_TOKENS}, summary: { model: summary-model, maxTokens: 150 } }`,
        },
      ],
      { storageUrl, defaults: 'model: chat-model', server: '{ port: 0 }' },
    );
    h.openai.setReply(summarizingReply);
  });
  afterEach(async () => h.close());

  const chatRequests = () => h.openai.requests().filter((request) => !isSummaryRequest(request.body));
  const summaryRequests = () => h.openai.requests().filter((request) => isSummaryRequest(request.body));

  it('keeps a fact of turn 1 in the request of turn 60, within maxTokens, with about one summary per turn that left', async () => {
    const { fleet } = await h.start();
    for (let n = 1; n <= 60; n++) {
      const text =
        n === 1
          ? 'FACT: my name is Ada and I am allergic to peanuts'
          : n === 30
            ? 'FACT: my project is called Lighthouse'
            : `message number ${n}, nothing to remember`;
      h.telegram.sendText(BOT.token, { chatId: USER, userId: USER, text });
      await h.telegram.waitForSent(n, { token: BOT.token, timeoutMs: 10_000 });
    }
    // 54 turns left the window; the last summary (folding turn 54) runs after the 60th reply.
    const where = { bot: BOT.id, provider: 'fake', model: 'summary-model' };
    await waitFor(
      () =>
        summaryRequests().some((request) => JSON.stringify(request.body).includes('message number 54,')) &&
        summaryRequests().every((request) => request.outcome !== undefined),
      { what: 'the summary of turn 54', timeoutMs: 10_000 },
    );
    await waitFor(
      async () =>
        sample(await metricsText(fleet.opsUrl ?? ''), 'botfleet_summary_calls_total', { ...where, outcome: 'ok' }) ===
        summaryRequests().length,
      { what: 'the summary calls counted' },
    );

    const chats = chatRequests();
    expect(chats).toHaveLength(60);
    const last = transcript(chats[59]?.body);
    expect(last[0]).toBe('system: You are a helpful assistant.');
    expect(last[1]).toMatch(/^system: Summary of the earlier conversation:\n/);
    expect(last[1]).toContain('FACT: my name is Ada and I am allergic to peanuts');
    expect(last[1]).toContain('FACT: my project is called Lighthouse');
    expect(last.at(-1)).toBe('user: message number 60, nothing to remember');
    // The 6 newest turns, any older turn whose summary was still being written (it is in
    // neither the summary nor dropped), and the new message.
    const users = last.filter((line) => line.startsWith('user: '));
    expect(users.length).toBeGreaterThanOrEqual(7);
    expect(users.slice(-7)).toEqual(
      [54, 55, 56, 57, 58, 59, 60].map((n) => expect.stringContaining(`message number ${n},`)),
    );

    for (const request of h.openai.requests()) expect(tokensOf(request)).toBeLessThanOrEqual(MAX_TOKENS);
    const summaries = summaryRequests();
    expect(summaries.every((request) => request.model === 'summary-model')).toBe(true);
    expect(summaries.length).toBeGreaterThanOrEqual(20);
    expect(summaries.length).toBeLessThanOrEqual(54);

    const text = await metricsText(fleet.opsUrl ?? '');
    expect(sample(text, 'botfleet_summary_calls_total', { ...where, outcome: 'ok' })).toBe(summaries.length);
    expect(sample(text, 'botfleet_summary_tokens_total', { ...where, direction: 'prompt' })).toBeGreaterThan(0);
    expect(
      sample(text, 'botfleet_model_requests_total', {
        bot: BOT.id,
        provider: 'fake',
        model: 'chat-model',
        outcome: 'ok',
      }),
    ).toBe(60);
    expect(sample(text, 'botfleet_model_requests_total', { ...where, outcome: 'ok' })).toBeUndefined();
  }, 120_000);

  it('never makes the next message wait for a summary, and a failed summary is retried on the next turn', async () => {
    await h.start();
    for (let n = 1; n <= 6; n++) {
      h.telegram.sendText(BOT.token, { chatId: USER, userId: USER, text: n === 1 ? 'FACT: slow fact' : `m${n}` });
      await h.telegram.waitForSent(n, { token: BOT.token });
    }
    h.openai.setLatency(3000, 'summary-model');
    h.telegram.sendText(BOT.token, { chatId: USER, userId: USER, text: 'm7' });
    await h.telegram.waitForSent(7, { token: BOT.token });
    const slow = await h.openai.waitForRequest((request) => isSummaryRequest(request.body));
    h.telegram.sendText(BOT.token, { chatId: USER, userId: USER, text: 'm8' });
    await h.telegram.waitForSent(8, { token: BOT.token });
    expect(slow.outcome).toBeUndefined(); // answered while the summary was still being written
    await h.openai.waitForOutcome(slow, 10_000);
    h.openai.setLatency(0, 'summary-model');
    h.openai.failNext({ status: 500, model: 'summary-model', times: 5 });
    await waitFor(() => summaryRequests().length >= 2 && summaryRequests().every((r) => r.outcome !== undefined), {
      what: 'the follow-up summary to fail',
    });
    h.telegram.sendText(BOT.token, { chatId: USER, userId: USER, text: 'm9' });
    await h.telegram.waitForSent(9, { token: BOT.token });
    expect(transcript(chatRequests().at(-1)?.body)[1]).toContain('FACT: slow fact');
  });

  it('/reset forgets the summary with the turns', async () => {
    await h.start();
    for (let n = 1; n <= 8; n++) {
      h.telegram.sendText(BOT.token, {
        chatId: USER,
        userId: USER,
        text: n === 1 ? 'FACT: the code is 4711' : `message ${n}`,
      });
      await h.telegram.waitForSent(n, { token: BOT.token });
    }
    await waitFor(() => summaryRequests().length >= 2 && summaryRequests().every((r) => r.outcome !== undefined), {
      what: 'summaries',
    });
    h.telegram.sendText(BOT.token, { chatId: USER, userId: USER, text: 'message 9' });
    await h.telegram.waitForSent(9, { token: BOT.token });
    expect(transcript(chatRequests().at(-1)?.body).join('\n')).toContain('FACT: the code is 4711');

    h.telegram.sendText(BOT.token, { chatId: USER, userId: USER, text: '/reset' });
    await h.telegram.waitForSent(10, { token: BOT.token });
    h.telegram.sendText(BOT.token, { chatId: USER, userId: USER, text: 'what is the code?' });
    await h.telegram.waitForSent(11, { token: BOT.token });
    expect(transcript(chatRequests().at(-1)?.body)).toEqual([
      'system: You are a helpful assistant.',
      'user: what is the code?',
    ]);
  });
});
