/**
 * Media with a caption over real HTTP: a photo, video, animation, audio, voice note or document
 * with a caption is answered from the caption, the model told in one added line that an
 * attachment it cannot see came with it (kept in the stored turn); without a caption, the
 * polite non-text reply; in groups the caption follows the addressing rules of text.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { MessageEntity } from 'grammy/types';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFleetHarness, type FleetHarness, transcript } from '../support/fleet-harness.js';

const TOKEN = '7501:captions-token';
const USER = 7510;
const GROUP = -1007512;
const NON_TEXT = 'Sorry, I can only read text messages for now.';

const PHOTO = { photo: [{ file_id: 'p', file_unique_id: 'p', width: 1, height: 1 }] };
const FILE = { document: { file_id: 'd', file_unique_id: 'd', file_name: 'report.pdf' } };

describe('captions', () => {
  let h: FleetHarness;
  let nextMessageId = 3000;
  beforeEach(async () => {
    h = await createFleetHarness();
  });
  afterEach(async () => h.close());

  async function startBot(yaml = ''): Promise<void> {
    await h.writeConfig([{ id: 'captions', token: TOKEN, yaml }], { storageUrl: 'memory://' });
    await h.start();
  }

  /** Sends a media message with `fields` (and `caption`, when given) from USER to `chatId`. */
  function sendMedia(
    fields: Record<string, unknown>,
    options: { caption?: string; chatId?: number; entities?: MessageEntity[] } = {},
  ): number {
    const chatId = options.chatId ?? USER;
    const chat =
      chatId > 0 ? { id: chatId, type: 'private', first_name: 'Ana' } : { id: chatId, type: 'supergroup', title: 'G' };
    return h.telegram.sendUpdate(TOKEN, {
      message: {
        message_id: nextMessageId++,
        date: 0,
        chat,
        from: { id: USER, is_bot: false, first_name: 'Ana' },
        ...fields,
        ...(options.caption === undefined ? {} : { caption: options.caption }),
        ...(options.entities === undefined ? {} : { caption_entities: options.entities }),
      },
    } as never);
  }

  const userMessages = (): string[] => h.openai.requests().map((r) => transcript(r.body).at(-1) ?? '');

  it('answers a photo from its caption, telling the model a photo it cannot see came with it', async () => {
    await startBot();
    sendMedia(PHOTO, { caption: 'What breed is this dog?' });
    const [reply] = await h.telegram.waitForSent(1, { token: TOKEN });
    expect(userMessages()).toEqual([
      'user: What breed is this dog?\n[The user attached a photo, which you cannot see.]',
    ]);
    expect(reply?.text).toBe('echo: What breed is this dog?\n[The user attached a photo, which you cannot see.]');
    // The stored turn is what the model read, note included: the next request carries it.
    h.telegram.sendText(TOKEN, { chatId: USER, userId: USER, text: 'and now?' });
    await h.telegram.waitForSent(2, { token: TOKEN });
    expect(transcript(h.openai.lastRequest()?.body).slice(1, 2)).toEqual([
      'user: What breed is this dog?\n[The user attached a photo, which you cannot see.]',
    ]);
  });

  it('names each kind of attachment, and a document by its file name', async () => {
    await startBot();
    const kinds: [Record<string, unknown>, string][] = [
      [FILE, 'a file (report.pdf)'],
      [{ video: { file_id: 'v', file_unique_id: 'v', width: 1, height: 1, duration: 1 } }, 'a video'],
      [
        {
          animation: { file_id: 'a', file_unique_id: 'a', width: 1, height: 1, duration: 1 },
          document: { file_id: 'a', file_unique_id: 'a' },
        },
        'an animation',
      ],
      [{ audio: { file_id: 'm', file_unique_id: 'm', duration: 1 } }, 'an audio file'],
      [{ voice: { file_id: 'o', file_unique_id: 'o', duration: 1 } }, 'a voice message'],
    ];
    for (const [index, [fields]] of kinds.entries()) {
      sendMedia(fields, { caption: `c${index}` });
      await h.telegram.waitForSent(index + 1, { token: TOKEN });
    }
    expect(userMessages()).toEqual(
      kinds.map(([, what], index) => `user: c${index}\n[The user attached ${what}, which you cannot see.]`),
    );
  });

  it('gives media without a caption the non-text reply, and the model nothing', async () => {
    await startBot();
    sendMedia(PHOTO);
    sendMedia(FILE);
    const sent = await h.telegram.waitForSent(2, { token: TOKEN });
    expect(sent.map((m) => m.text)).toEqual([NON_TEXT, NON_TEXT]);
    expect(h.openai.requests()).toHaveLength(0);
  });

  it('in a group answers a caption that mentions the bot, and ignores one that does not, like text', async () => {
    await startBot();
    sendMedia(PHOTO, { chatId: GROUP, caption: 'nice view, everyone' });
    const mention = '@captions_bot';
    sendMedia(PHOTO, {
      chatId: GROUP,
      caption: `${mention} where is this?`,
      entities: [{ type: 'mention', offset: 0, length: mention.length }],
    });
    const [reply] = await h.telegram.waitForSent(1, { token: TOKEN });
    expect(userMessages()).toEqual(['user: Ana: where is this?\n[The user attached a photo, which you cannot see.]']);
    expect(reply?.chatId).toBe(GROUP);
    // Nothing for the caption without a mention: the only reply is the one above.
    h.telegram.sendText(TOKEN, { chatId: GROUP, userId: USER, firstName: 'Ana', text: `${mention} thanks` });
    await h.telegram.waitForSent(2, { token: TOKEN });
    expect(h.telegram.sentMessages(TOKEN, GROUP)).toHaveLength(2);
    expect(h.openai.requests()).toHaveLength(2);
  });

  it('joins a caption with the texts around it under queue: collect', async () => {
    await startBot('queue: collect');
    h.openai.setLatency(1000);
    h.telegram.sendText(TOKEN, { chatId: USER, userId: USER, text: 'one' });
    await h.openai.waitForRequest();
    await delay(100);
    sendMedia(PHOTO, { caption: 'this one' });
    await delay(100);
    h.telegram.sendText(TOKEN, { chatId: USER, userId: USER, text: 'thoughts?' });
    await h.telegram.waitForSent(2, { token: TOKEN, timeoutMs: 10_000 });
    expect(userMessages()).toEqual([
      'user: one',
      'user: this one\n[The user attached a photo, which you cannot see.]\nthoughts?',
    ]);
  });

  it('answers an album once: from its caption, or with one non-text reply when it has none', async () => {
    await startBot();
    // Three photos, no caption: one polite reply, not three.
    for (let i = 0; i < 3; i++) sendMedia({ ...PHOTO, media_group_id: 'album-1' });
    // Then an album whose first item carries the caption: one model answer, no non-text reply.
    sendMedia({ ...PHOTO, media_group_id: 'album-2' }, { caption: 'Which of these is sharpest?' });
    for (let i = 0; i < 2; i++) sendMedia({ ...PHOTO, media_group_id: 'album-2' });
    // A last text message: once it is answered, every item before it was handled.
    h.telegram.sendText(TOKEN, { chatId: USER, userId: USER, text: 'thanks' });
    await h.telegram.waitForSent(3, { token: TOKEN });
    await delay(300);
    expect(h.telegram.sentMessages(TOKEN, USER).map((m) => m.text)).toEqual([
      NON_TEXT,
      'echo: Which of these is sharpest?\n[The user attached a photo, which you cannot see.]',
      'echo: thanks',
    ]);
  });
});
