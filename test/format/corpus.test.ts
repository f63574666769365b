/**
 * Every corpus entry, whole and streamed prefix by prefix, rendered and split, is sent to the
 * fake Bot API over real HTTP with grammY's Api: Telegram's entity rules must accept all of it,
 * and what the message shows must be the plain rendering of the same Markdown.
 */
import { Api, GrammyError } from 'grammy';
import type { MessageEntity } from 'grammy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainTextOf, renderPlain, renderTelegram } from '../../src/format/render.js';
import { splitRendered } from '../../src/format/split.js';
import type { FormattedText } from '../../src/format/types.js';
import { type FakeTelegram, startFakeTelegram } from '../fakes/telegram-api.js';
import { CORPUS } from './corpus.js';

const TOKEN = '6161:corpus-token';
const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const squash = (text: string): string => text.replace(/\s+/g, '');

/** Prefixes ending at every grapheme boundary, or at boundaries at least ~`step` units apart
 * for long entries; the whole text last. */
function prefixes(markdown: string, step = 83): string[] {
  const ends = [...segmenter.segment(markdown)].map((s) => s.index + s.segment.length);
  const out: string[] = [];
  let last = 0;
  for (const end of ends) {
    if (markdown.length <= 600 || end - last >= step) {
      out.push(markdown.slice(0, end));
      last = end;
    }
  }
  if (out.at(-1) !== markdown) out.push(markdown);
  return out;
}

/** The parts' texts put together equal `plain` up to the whitespace dropped at cuts. */
function expectSameVisibleText(parts: readonly string[], plain: string): void {
  expect(squash(parts.join(''))).toBe(squash(plain));
  let cursor = 0;
  for (const part of parts) {
    const at = plain.indexOf(part, cursor);
    expect(plain.slice(cursor, at).trim()).toBe('');
    cursor = at + part.length;
  }
}

const entitiesOf = (part: FormattedText): MessageEntity[] => part.entities as MessageEntity[];

describe('corpus of nasty model outputs against the fake Bot API', () => {
  let telegram: FakeTelegram;
  let api: Api;
  const rejected: string[] = [];
  const record = (name: string, prefixLength: number) => (error: unknown) => {
    if (!(error instanceof GrammyError)) throw error;
    rejected.push(`${name} @${prefixLength}: ${error.description}`);
    return undefined;
  };

  beforeAll(async () => {
    telegram = await startFakeTelegram();
    telegram.addBot(TOKEN);
    api = new Api(TOKEN, { apiRoot: telegram.apiRoot });
  });
  afterAll(async () => telegram.close());

  it('has at least 40 entries', () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(40);
  });

  it('sends every whole entry with zero rejections, showing its plain rendering', async () => {
    await Promise.all(
      CORPUS.map(async ([name, markdown], index) => {
        const shown: string[] = [];
        for (const part of splitRendered(renderTelegram(markdown))) {
          const sent = await api
            .sendMessage(1000 + index, part.text, { entities: entitiesOf(part) })
            .catch(record(name, markdown.length));
          if (sent !== undefined) shown.push(sent.text);
          // The fallback contract: the same part resent as plain text is always accepted.
          const plain = await api.sendMessage(1000 + index, plainTextOf(part)).catch(record(name, -1));
          expect(plain?.text).toBe(part.text);
        }
        expectSameVisibleText(shown, renderPlain(markdown));
      }),
    );
    expect(rejected).toEqual([]);
  });

  it('streams every prefix of every entry (send, then edits) with zero rejections', async () => {
    let requests = 0;
    await Promise.all(
      CORPUS.map(async ([name, markdown], index) => {
        const chatId = 2000 + index;
        let messageId: number | undefined;
        let last = '';
        for (const prefix of prefixes(markdown)) {
          const parts = splitRendered(renderTelegram(prefix, { partial: true }));
          expectSameVisibleText(
            parts.map((p) => p.text),
            renderPlain(prefix, { partial: true }),
          );
          const [first, ...rest] = parts;
          if (first === undefined || JSON.stringify(first) === last) continue;
          last = JSON.stringify(first);
          const options = { entities: entitiesOf(first) };
          requests += 1 + rest.length;
          const sent =
            messageId === undefined
              ? await api.sendMessage(chatId, first.text, options).catch(record(name, prefix.length))
              : await api.editMessageText(chatId, messageId, first.text, options).catch(record(name, prefix.length));
          if (messageId === undefined && sent !== undefined && sent !== true) messageId = sent.message_id;
          if (typeof sent === 'object' && 'text' in sent) expect(sent.text).toBe(first.text);
          for (const part of rest) {
            await api.sendMessage(chatId, part.text, { entities: entitiesOf(part) }).catch(record(name, prefix.length));
          }
        }
      }),
    );
    expect(rejected).toEqual([]);
    expect(requests).toBeGreaterThan(1000);
  }, 60_000);
});
