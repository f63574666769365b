/**
 * The heart of the product over real HTTP: two bots sharing one store talk to the same user
 * concurrently, each request holds only its own bot's prompt and history, /reset clears one
 * conversation, and history survives a restart. Run on SQLite and on the real Redis.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFleetHarness, type FleetHarness, transcript } from '../support/fleet-harness.js';

const USER = 5001;
const ALPHA = '1001:alpha-token';
const BETA = '1002:beta-token';

describe.each([
  ['SQLite', () => 'sqlite://data/botfleet.sqlite'],
  ['Redis', () => `redis://127.0.0.1:6379/0`],
])('two bots sharing one %s store', (_name, storageUrl) => {
  let h: FleetHarness;
  beforeEach(async () => {
    h = await createFleetHarness();
    await h.writeConfig(
      [
        { id: 'alpha', token: ALPHA, yaml: 'systemPrompt: You are Alpha.' },
        { id: 'beta', token: BETA, yaml: 'systemPrompt: You are Beta.' },
      ],
      { storageUrl: storageUrl(), defaults: `model: fake-model` },
    );
  });
  afterEach(async () => h.close());

  it('keeps each bot to its own prompt and history, in order, and /reset clears one conversation', async () => {
    const { fleet } = await h.start();
    h.openai.setReply(
      (request) => `reply ${transcript(request.body).length} from ${String(transcript(request.body)[0])}`,
    );

    h.telegram.sendText(ALPHA, { chatId: USER, userId: USER, text: 'alpha one' });
    h.telegram.sendText(BETA, { chatId: USER, userId: USER, text: 'beta one' });
    await h.telegram.waitForSent(1, { token: ALPHA });
    await h.telegram.waitForSent(1, { token: BETA });
    h.telegram.sendText(ALPHA, { chatId: USER, userId: USER, text: 'alpha two' });
    await h.telegram.waitForSent(2, { token: ALPHA });
    h.telegram.sendText(ALPHA, { chatId: USER, userId: USER, text: 'alpha three' });
    await h.telegram.waitForSent(3, { token: ALPHA });

    const third = h.openai
      .requests()
      .filter((r) => transcript(r.body)[0] === 'system: You are Alpha.')
      .at(-1);
    const alphaReplies = h.telegram.sentMessages(ALPHA, USER).map((m) => m.text);
    expect(transcript(third?.body)).toEqual([
      'system: You are Alpha.',
      'user: alpha one',
      `assistant: ${alphaReplies[0]}`,
      'user: alpha two',
      `assistant: ${alphaReplies[1]}`,
      'user: alpha three',
    ]);
    const betaRequest = h.openai.requests().find((r) => transcript(r.body)[0] === 'system: You are Beta.');
    expect(transcript(betaRequest?.body)).toEqual(['system: You are Beta.', 'user: beta one']);

    h.telegram.sendText(ALPHA, { chatId: USER, userId: USER, text: '/reset' });
    await h.telegram.waitForSent(4, { token: ALPHA });
    expect(h.telegram.sentMessages(ALPHA, USER).at(-1)?.text).toMatch(/forgotten/);
    h.telegram.sendText(ALPHA, { chatId: USER, userId: USER, text: 'alpha after reset' });
    h.telegram.sendText(BETA, { chatId: USER, userId: USER, text: 'beta two' });
    await h.telegram.waitForSent(5, { token: ALPHA });
    await h.telegram.waitForSent(2, { token: BETA });
    const afterReset = h.openai.requests().find((r) => transcript(r.body).at(-1) === 'user: alpha after reset');
    expect(transcript(afterReset?.body)).toEqual(['system: You are Alpha.', 'user: alpha after reset']);
    const betaTwo = h.openai.requests().find((r) => transcript(r.body).at(-1) === 'user: beta two');
    expect(transcript(betaTwo?.body)).toHaveLength(4);
    await fleet.stop(2000);
  });

  it('remembers a conversation across a restart', async () => {
    const first = await h.start();
    h.telegram.sendText(ALPHA, { chatId: USER, userId: USER, text: 'remember the number 42' });
    await h.telegram.waitForSent(1, { token: ALPHA });
    await first.fleet.stop(2000);

    await h.start();
    h.telegram.sendText(ALPHA, { chatId: USER, userId: USER, text: 'what was the number?' });
    await h.telegram.waitForSent(2, { token: ALPHA });
    expect(transcript(h.openai.lastRequest()?.body)).toEqual([
      'system: You are Alpha.',
      'user: remember the number 42',
      'assistant: echo: remember the number 42',
      'user: what was the number?',
    ]);
  });

  it('does not answer or store an update again after a restart redelivers it', async () => {
    const first = await h.start();
    const updateId = h.telegram.sendText(ALPHA, { chatId: USER, userId: USER, text: 'only once' });
    await h.telegram.waitForSent(1, { token: ALPHA });
    const update = h.telegram.updateTiming(ALPHA, updateId);
    expect(update).toBeDefined();
    await first.fleet.stop(2000);

    await h.start();
    // Telegram redelivers an update whose confirmation was lost: same update_id, same message.
    h.telegram.sendUpdate(ALPHA, {
      update_id: updateId,
      message: {
        message_id: update?.messageId ?? 1,
        date: 0,
        chat: { id: USER, type: 'private', first_name: 'U' },
        from: { id: USER, is_bot: false, first_name: 'U' },
        text: 'only once',
      },
    });
    h.telegram.sendText(ALPHA, { chatId: USER, userId: USER, text: 'next one' });
    await h.telegram.waitForSent(2, { token: ALPHA });
    expect(h.telegram.sentMessages(ALPHA, USER).map((m) => m.text)).toEqual(['echo: only once', 'echo: next one']);
    expect(h.openai.requests().map((r) => transcript(r.body).at(-1))).toEqual(['user: only once', 'user: next one']);
    expect(transcript(h.openai.lastRequest()?.body).slice(1)).toEqual([
      'user: only once',
      'assistant: echo: only once',
      'user: next one',
    ]);
  });
});
