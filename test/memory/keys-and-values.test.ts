/** Storage keys, the stored value format, and how storage errors are described. */
import { describe, expect, it } from 'vitest';
import { conversationKey, corruptKey } from '../../src/memory/keys.js';
import { describeCause, isTransient, StoreTimeoutError } from '../../src/memory/store-error.js';
import { decodeValue, encodeValue } from '../../src/memory/value-format.js';

describe('conversationKey', () => {
  it('builds namespace:bot:chat[:tTOPIC][:uUSER]', () => {
    expect(conversationKey('botfleet', { botId: 'helper', chatId: 123 })).toBe('botfleet:helper:123');
    expect(conversationKey('botfleet', { botId: 'chef', chatId: -100987, topicId: 4 })).toBe(
      'botfleet:chef:-100987:t4',
    );
    expect(conversationKey('botfleet', { botId: 'chef', chatId: -100987, userId: 55 })).toBe(
      'botfleet:chef:-100987:u55',
    );
    expect(conversationKey('ns', { botId: 'b', chatId: 1, topicId: 2, userId: 3 })).toBe('ns:b:1:t2:u3');
    expect(corruptKey('ns:b:1', 1735689600000)).toBe('ns:b:1:corrupt:1735689600000');
  });

  it('refuses ids that would make an ambiguous key', () => {
    expect(() => conversationKey('ns', { botId: 'a:b', chatId: 1 })).toThrow(RangeError);
    expect(() => conversationKey('ns', { botId: 'a', chatId: 1.5 })).toThrow('chatId must be an integer');
    expect(() => conversationKey('ns', { botId: 'a', chatId: 1, topicId: Number.NaN })).toThrow('topicId');
  });
});

describe('the stored value', () => {
  it('round-trips turns, with updateId only when there is one', () => {
    const turns = [
      { user: 'hi', assistant: 'hello', userAt: 1, assistantAt: 2, updateId: 7 },
      { user: 'again', assistant: 'yes', userAt: 3, assistantAt: 4 },
    ];
    const text = encodeValue(turns);
    expect(text).toBe(
      '{"v":1,"turns":[{"user":"hi","assistant":"hello","userAt":1,"assistantAt":2,"updateId":7},{"user":"again","assistant":"yes","userAt":3,"assistantAt":4}]}',
    );
    expect(decodeValue(text)).toEqual({ ok: true, turns, answered: [] });
  });

  it('keeps the other answered update ids, newest 100, and still reads values written without them', () => {
    const turn = { user: 'hi', assistant: 'hello', userAt: 1, assistantAt: 2, updateId: 7 };
    const ids = Array.from({ length: 150 }, (_, n) => n);
    const text = encodeValue([turn], ids);
    expect(JSON.parse(text)).toEqual({ v: 1, turns: [turn], answered: ids.slice(50) });
    expect(decodeValue(text)).toEqual({ ok: true, turns: [turn], answered: ids.slice(50) });
    expect(encodeValue([], [])).toBe('{"v":1,"turns":[]}');
    expect(decodeValue('{"v":1,"turns":[]}')).toEqual({ ok: true, turns: [], answered: [] });
    expect(decodeValue('{"v":1,"turns":[],"answered":[1.5]}')).toMatchObject({ ok: false });
  });

  it.each([
    ['not JSON', '{"v":1,', 'not JSON'],
    ['a list', '[]', 'not a JSON object'],
    ['another version', '{"v":2,"turns":[]}', 'unknown format version 2'],
    ['turns missing', '{"v":1}', '"turns" is not an array'],
    ['a bad turn', '{"v":1,"turns":[{"user":"x","assistant":3,"userAt":1,"assistantAt":2}]}', 'turn 0 is not'],
    ["Keyv's own envelope", '{"value":{"v":1,"turns":[]},"expires":null}', 'unknown format version'],
  ])('reports %s as unreadable', (_name, text, reason) => {
    const decoded = decodeValue(text);
    expect(decoded.ok).toBe(false);
    expect(decoded.ok ? '' : decoded.reason).toContain(reason);
  });
});

describe('storage error descriptions', () => {
  it('names common causes briefly and knows which ones pass', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(describeCause(refused)).toBe('connection refused');
    expect(isTransient(refused)).toBe(true);
    expect(isTransient(new StoreTimeoutError(100))).toBe(true);
    expect(describeCause(new Error('WRONGPASS invalid username-password pair'))).toBe('authentication failed');
    const readonly = Object.assign(new Error('SQLITE_READONLY: attempt to write a readonly database'), {
      code: 'SQLITE_READONLY',
    });
    expect(isTransient(readonly)).toBe(false);
    expect(describeCause(new Error('bad thing with s3cret inside'), 's3cret')).toBe('bad thing with **** inside');
  });
});

describe('the stored summary (window.summary)', () => {
  const turns = [{ user: 'hi', assistant: 'hello', userAt: 5, assistantAt: 6 }];
  const summary = { text: 'FACT: x', turns: 3, throughUserAt: 4, at: 9 };

  it('round-trips as an additive field after turns and answered; absent when there is none', () => {
    const text = encodeValue(turns, [1], summary);
    expect(text).toBe(
      '{"v":1,"turns":[{"user":"hi","assistant":"hello","userAt":5,"assistantAt":6}],"answered":[1],"summary":{"text":"FACT: x","turns":3,"throughUserAt":4,"at":9}}',
    );
    expect(decodeValue(text)).toEqual({ ok: true, turns, answered: [1], summary });
    expect(decodeValue(encodeValue(turns))).toEqual({ ok: true, turns, answered: [] });
  });

  it('reports a summary of the wrong shape as unreadable, never guesses', () => {
    for (const bad of [
      { text: 1, turns: 1, throughUserAt: 1, at: 1 },
      { text: 'x', turns: -1, throughUserAt: 1, at: 1 },
      'x',
    ]) {
      const text = JSON.stringify({ v: 1, turns: [], summary: bad });
      expect(decodeValue(text)).toEqual({ ok: false, reason: '"summary" is not {text, turns, throughUserAt, at}' });
    }
  });
});
