/** Streamed and formatted replies through the real fleet against the fake Bot API and model. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderTelegram } from '../../src/format/render.js';
import { splitRendered } from '../../src/format/split.js';
import type { RecordedCall } from '../fakes/telegram-types.js';
import { LEVEL } from '../support/capture-log.js';
import { createFleetHarness, type FleetHarness, transcript } from '../support/fleet-harness.js';
import { waitFor } from '../support/wait-for.js';

const TOKEN = '3101:stream-token';
const FLOOR_MS = 200;
const PACING = `telegram: { firstMessageDelayMs: 100, editIntervalMs: ${FLOOR_MS}, groupEditIntervalMs: 300 }`;
const CUT_OFF = '… (cut off: I could not finish this answer, please ask again)';
/** About 40 words of Markdown: with 75 ms between word chunks, a ~3 s model. */
const LONG = [
  '## Plan',
  '',
  'Here is **the plan** for the *trip*, step by step:',
  '',
  '1. Pack the `bags` and check the weather forecast for the whole week ahead.',
  '2. Take the early train; see [the timetable](https://example.com/t) before leaving.',
  '',
  '```sh',
  'echo "bon voyage"',
  '```',
  '',
  'That is all you need to know for now, enjoy the journey and the views.',
].join('\n');

describe('streaming replies', () => {
  let h: FleetHarness;
  beforeEach(async () => {
    h = await createFleetHarness();
  });
  afterEach(async () => h.close());

  const start = async (yaml = ''): Promise<void> => {
    await h.writeConfig(
      [{ id: 'stream', token: TOKEN, yaml: [PACING, 'groups: { reply: always }', yaml].join('\n') }],
      {
        storageUrl: 'memory://',
      },
    );
    await h.start();
  };
  const calls = (method: string, chatId: number): RecordedCall[] =>
    h.telegram.calls(TOKEN, method).filter((call) => call.params.chat_id === chatId);
  const shown = (chatId: number, messageId: number) => h.telegram.message(TOKEN, chatId, messageId);

  it('shows a slow reply as one message that grows by paced edits, ending with the rendered text', async () => {
    await start();
    h.openai.enqueueReply({ content: LONG, chunkDelayMs: 75 });
    h.telegram.sendText(TOKEN, { chatId: 1, userId: 1, text: 'plan my trip' });
    const request = await h.openai.waitForRequest();
    await h.openai.waitForOutcome(request, 10_000);
    const rendered = renderTelegram(LONG);
    const [sent] = await h.telegram.waitForSent(1, { token: TOKEN });
    await waitFor(() => shown(1, sent?.messageId ?? 0)?.text === rendered.text, { timeoutMs: 5000 });
    expect(shown(1, sent?.messageId ?? 0)?.entities).toEqual(rendered.entities);
    expect(h.telegram.sentMessages(TOKEN, 1)).toHaveLength(1);
    expect(sent?.text.length).toBeLessThan(rendered.text.length);

    const edits = calls('editMessageText', 1);
    expect(edits.length).toBeGreaterThanOrEqual(3);
    const texts = edits.map((edit) => String(edit.params.text));
    for (let i = 1; i < texts.length; i += 1) expect(texts[i]?.length).toBeGreaterThan(texts[i - 1]?.length ?? 0);
    const starts = [sent?.at ?? 0, ...edits.map((edit) => edit.at)];
    // Client-side starts are at least FLOOR_MS apart. One arrival at the fake can lag by tens of
    // ms on a loaded machine (bringing it closer to the next), so the pacing is judged over the
    // whole span, where only its two ends can jitter, by up to one interval in all (unpaced
    // edits would come with the 75 ms chunks, far below).
    const span = (starts.at(-1) ?? 0) - (starts[0] ?? 0);
    expect(span).toBeGreaterThanOrEqual((starts.length - 2) * FLOOR_MS);
    expect(edits.every((edit) => edit.outcome?.status === 200)).toBe(true);
    // "typing…" (if the first token took longer than TYPING_DELAY_MS) stops once text shows.
    const typing = calls('sendChatAction', 1);
    expect(typing.every((call) => call.at < (sent?.at ?? 0))).toBe(true);

    h.telegram.sendText(TOKEN, { chatId: 1, userId: 1, text: 'thanks' });
    await h.openai.waitForRequests(2);
    expect(transcript(h.openai.lastRequest()?.body).slice(1)).toEqual([
      'user: plan my trip',
      `assistant: ${LONG}`,
      'user: thanks',
    ]);
  }, 20_000);

  it('sends a short reply from a fast model as exactly one formatted sendMessage', async () => {
    await start();
    h.openai.enqueueReply('Use **bold** and `code`.');
    h.telegram.sendText(TOKEN, { chatId: 2, userId: 2, text: 'hi' });
    const [sent] = await h.telegram.waitForSent(1, { token: TOKEN });
    expect(sent?.text).toBe('Use bold and code.');
    expect(sent?.params.entities).toEqual([
      { type: 'bold', offset: 4, length: 4 },
      { type: 'code', offset: 13, length: 4 },
    ]);
    // The conversation answers in order: once the next answer is out, the first is complete.
    h.telegram.sendText(TOKEN, { chatId: 2, userId: 2, text: 'again' });
    await h.telegram.waitForSent(2, { token: TOKEN });
    expect(calls('editMessageText', 2)).toHaveLength(0);
    expect(calls('sendMessage', 2)).toHaveLength(2);
  });

  it('waits out a 429 on an edit and still shows the final text', async () => {
    await start();
    h.telegram.failNext(TOKEN, 'editMessageText', { status: 429, retryAfter: 1 });
    h.openai.enqueueReply({ content: LONG, chunkDelayMs: 50 });
    h.telegram.sendText(TOKEN, { chatId: 3, userId: 3, text: 'plan' });
    const [sent] = await h.telegram.waitForSent(1, { token: TOKEN });
    const rendered = renderTelegram(LONG);
    await waitFor(() => shown(3, sent?.messageId ?? 0)?.text === rendered.text, { timeoutMs: 10_000 });
    const edits = calls('editMessageText', 3);
    const limited = edits.findIndex((edit) => edit.outcome?.status === 429);
    expect(limited).toBeGreaterThanOrEqual(0);
    expect((edits[limited + 1]?.at ?? 0) - (edits[limited]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(h.telegram.sentMessages(TOKEN, 3)).toHaveLength(1);
  }, 20_000);

  it('ends a reply the model failed mid-stream with the cut-off note, no apology, nothing stored', async () => {
    await start();
    h.openai.failNext({ kind: 'stream-error', partialContent: 'The first **half** of' });
    h.telegram.sendText(TOKEN, { chatId: 4, userId: 4, text: 'go' });
    const [sent] = await h.telegram.waitForSent(1, { token: TOKEN });
    await waitFor(() => shown(4, sent?.messageId ?? 0)?.text === `The first half of\n\n${CUT_OFF}`);
    // The fake records the edit before the bot has its answer, and the bot logs after that.
    const failed = () => h.logs().find((l) => l.level === LEVEL.error && l.msg.startsWith('model request failed'));
    await waitFor(() => failed() !== undefined, { what: 'the model failure logged' });
    expect(failed()?.msg).toContain('cut-off note');

    h.telegram.sendText(TOKEN, { chatId: 4, userId: 4, text: 'again' });
    await h.openai.waitForRequests(2);
    expect(transcript(h.openai.lastRequest()?.body).slice(1)).toEqual(['user: again']);
    expect(h.telegram.sentMessages(TOKEN, 4).map((m) => m.text)).not.toContain(
      'Sorry, I could not get an answer right now. Please try again in a moment.',
    );
  });

  it('resends a formatted message Telegram rejects as plain text, and logs it', async () => {
    await start();
    h.telegram.failNext(TOKEN, 'sendMessage', { status: 400, description: "Bad Request: can't parse entities" });
    h.openai.enqueueReply('A **bold** claim.');
    h.telegram.sendText(TOKEN, { chatId: 5, userId: 5, text: 'claim' });
    const [sent] = await h.telegram.waitForSent(1, { token: TOKEN });
    expect(sent?.text).toBe('A bold claim.');
    expect(sent?.params.entities).toBeUndefined();
    expect(h.logs().some((l) => l.level === LEVEL.warn && l.msg.includes('resent as plain text'))).toBe(true);
  });

  it('streams a draft in a private chat, then sends one message; edits in a group, in its topic', async () => {
    await start('streaming: draft');
    h.openai.enqueueReply({ content: LONG, chunkDelayMs: 40 });
    h.telegram.sendText(TOKEN, { chatId: 6, userId: 6, text: 'plan' });
    const [sent] = await h.telegram.waitForSent(1, { token: TOKEN, chatId: 6, timeoutMs: 8000 });
    expect(sent?.text).toBe(renderTelegram(LONG).text);
    expect(calls('sendMessageDraft', 6).length).toBeGreaterThanOrEqual(2);
    expect(calls('sendMessageDraft', 6).every((call) => call.at < (sent?.at ?? 0))).toBe(true);
    expect(calls('editMessageText', 6)).toHaveLength(0);

    const group = -1006;
    h.openai.enqueueReply({ content: LONG, chunkDelayMs: 40 });
    h.telegram.sendText(TOKEN, { chatId: group, userId: 6, text: 'plan', chatType: 'supergroup', topicId: 7 });
    const [first] = await h.telegram.waitForSent(1, { token: TOKEN, chatId: group, timeoutMs: 8000 });
    expect(first?.threadId).toBe(7);
    expect(first?.replyToMessageId).toBeDefined();
    await waitFor(() => shown(group, first?.messageId ?? 0)?.text === renderTelegram(LONG).text, { timeoutMs: 8000 });
    expect(calls('editMessageText', group).length).toBeGreaterThan(0);
    expect(calls('sendMessageDraft', group)).toHaveLength(0);
  }, 20_000);

  it('rolls a long streamed reply over to new messages before 4096, every part valid and final', async () => {
    await start();
    const paragraphs = Array.from({ length: 30 }, (_, i) => `**Part ${i}**: ${'all work and no play '.repeat(10)}`);
    const long = paragraphs.join('\n\n');
    h.openai.enqueueReply({ content: long, chunks: paragraphs.map((p) => `${p}\n\n`), chunkDelayMs: 60 });
    h.telegram.sendText(TOKEN, { chatId: 9, userId: 9, text: 'long' });
    const expected = splitRendered(renderTelegram(long));
    expect(expected.length).toBeGreaterThanOrEqual(2);
    const final = () =>
      h.telegram.sentMessages(TOKEN, 9).map((m) => {
        const shown = h.telegram.message(TOKEN, 9, m.messageId);
        return { text: shown?.text, entities: shown?.entities ?? [] };
      });
    await waitFor(() => JSON.stringify(final()) === JSON.stringify(expected), { timeoutMs: 10_000 });
    const updates = [...calls('sendMessage', 9), ...calls('editMessageText', 9)];
    expect(calls('editMessageText', 9).length).toBeGreaterThan(0);
    expect(updates.every((call) => call.outcome?.status === 200 && String(call.params.text).length <= 4096)).toBe(true);
  }, 20_000);

  it('sends the text exactly as the model wrote it with formatting: plain', async () => {
    await start('formatting: plain');
    const raw = 'Keep **these** _markers_ and `ticks` as they are.';
    h.openai.enqueueReply(raw);
    h.telegram.sendText(TOKEN, { chatId: 8, userId: 8, text: 'raw' });
    const [sent] = await h.telegram.waitForSent(1, { token: TOKEN });
    expect(sent?.text).toBe(raw);
    expect(sent?.params.entities).toBeUndefined();
  });
});
