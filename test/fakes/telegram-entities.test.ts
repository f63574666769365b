import { Api } from 'grammy';
import type { MessageEntity } from 'grammy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeTelegram, startFakeTelegram } from './telegram-api.js';
import { entitiesProblem } from './telegram-entities.js';

const TOKEN = '5151:entities-token';
const CHAT = 77;

describe('entity validation (telegram-entities.ts)', () => {
  it('accepts nested entities, pre with a language, links with allowed schemes and no entities', () => {
    const text = 'bold link code 😀!';
    expect(
      entitiesProblem(text, [
        { type: 'bold', offset: 0, length: 9 },
        { type: 'text_link', offset: 5, length: 4, url: 'https://example.com' },
        { type: 'pre', offset: 10, length: 4, language: 'ts' },
        { type: 'italic', offset: 15, length: 2 },
      ]),
    ).toBeUndefined();
    expect(entitiesProblem(text, undefined)).toBeUndefined();
    expect(entitiesProblem(text, [])).toBeUndefined();
  });

  it.each([
    ['past the end', [{ type: 'bold', offset: 3, length: 5 }], /past the text/],
    ['empty', [{ type: 'bold', offset: 0, length: 0 }], /empty/],
    ['negative', [{ type: 'bold', offset: -1, length: 2 }], /empty or starts before/],
    ['unknown type', [{ type: 'heading', offset: 0, length: 2 }], /unknown entity type/],
    [
      'partial overlap',
      [
        { type: 'bold', offset: 0, length: 3 },
        { type: 'italic', offset: 2, length: 3 },
      ],
      /partially/,
    ],
    [
      'bold in code',
      [
        { type: 'code', offset: 0, length: 5 },
        { type: 'bold', offset: 1, length: 2 },
      ],
      /pre and code/,
    ],
    [
      'code in bold',
      [
        { type: 'bold', offset: 0, length: 5 },
        { type: 'code', offset: 1, length: 2 },
      ],
      /pre and code/,
    ],
    [
      'quote in quote',
      [
        { type: 'blockquote', offset: 0, length: 5 },
        { type: 'blockquote', offset: 1, length: 2 },
      ],
      /blockquote/,
    ],
    ['bad url', [{ type: 'text_link', offset: 0, length: 2, url: 'javascript:alert(1)' }], /wrong HTTP URL/],
    ['relative url', [{ type: 'text_link', offset: 0, length: 2, url: 'foo/bar' }], /wrong HTTP URL/],
    ['numeric language', [{ type: 'pre', offset: 0, length: 2, language: 5 }], /language/],
    ['not an array', { type: 'bold' }, /array/],
  ])('rejects %s', (_name, entities, message) => {
    expect(entitiesProblem('hello', entities)).toMatch(message);
  });

  it('rejects an entity splitting a surrogate pair or reaching into stripped whitespace', () => {
    expect(entitiesProblem('a😀b', [{ type: 'bold', offset: 0, length: 2 }])).toMatch(/surrogate/);
    expect(entitiesProblem(' ab ', [{ type: 'bold', offset: 0, length: 2 }])).toMatch(/stripped whitespace/);
    expect(entitiesProblem(' ab ', [{ type: 'bold', offset: 1, length: 2 }])).toBeUndefined();
  });
});

describe('the fake Bot API checks entities on sendMessage and editMessageText', () => {
  let telegram: FakeTelegram;
  let api: Api;
  beforeAll(async () => {
    telegram = await startFakeTelegram();
    telegram.addBot(TOKEN);
    api = new Api(TOKEN, { apiRoot: telegram.apiRoot });
  });
  afterAll(async () => telegram.close());

  it('keeps valid entities and answers 400 "can\'t parse entities" to invalid ones', async () => {
    const good: MessageEntity[] = [{ type: 'bold', offset: 0, length: 4 }];
    const sent = await api.sendMessage(CHAT, 'bold text', { entities: good });
    expect(sent.entities).toEqual(good);
    const overlap: MessageEntity[] = [
      { type: 'bold', offset: 0, length: 6 },
      { type: 'code', offset: 2, length: 6 },
    ];
    await expect(api.sendMessage(CHAT, 'bold text', { entities: overlap })).rejects.toMatchObject({
      error_code: 400,
      description: expect.stringMatching(/^Bad Request: can't parse entities: .*partially/),
    });
    const past: MessageEntity[] = [{ type: 'italic', offset: 5, length: 10 }];
    await expect(api.editMessageText(CHAT, sent.message_id, 'edited', { entities: past })).rejects.toMatchObject({
      error_code: 400,
      description: expect.stringMatching(/^Bad Request: can't parse entities: .*past the text/),
    });
    const edited = await api.editMessageText(CHAT, sent.message_id, 'edited', {
      entities: [{ type: 'pre', offset: 0, length: 6, language: 'text' }],
    });
    expect(edited).toMatchObject({ text: 'edited', entities: [{ type: 'pre', language: 'text' }] });
  });
});
