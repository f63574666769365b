/**
 * The ConversationStore contract, run unchanged against every backend on the real thing
 * (a SQLite file, the Redis server, memory://). A backend test file supplies a StoreFixture.
 */

import { encode } from 'gpt-tokenizer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { computeWindow } from '../../src/answer/prompt-window.js';
import type { StorageConfig } from '../../src/config/types.js';
import type { Logger } from '../../src/logger.js';
import type { ConversationKey } from '../../src/memory/keys.js';
import {
  type ConversationStoreHandle,
  openConversationStore,
  type openStoreWithKeyv,
} from '../../src/memory/open-store.js';
import { type StoreBackend, StoreError } from '../../src/memory/store-error.js';
import type { Turn } from '../../src/memory/value-format.js';
import { captureLog, LEVEL } from '../support/capture-log.js';

/** One isolated place in a backend: its own file, key prefix or map. */
export interface StorePlace {
  readonly namespace: string;
  /** The storage config a user would write for this place; opened with no test hook. */
  readonly storage: StorageConfig;
  /** Opens a store on this place, with whatever hook lets readRaw/writeRaw/keys see its data
   * (memory://: the same Map on every open). */
  open(logger: Logger): Promise<ConversationStoreHandle>;
  /** Opens a store on this place like `open`, with the Keyv behind it. */
  openWithKeyv(logger: Logger): ReturnType<typeof openStoreWithKeyv>;
  /** The raw stored text under a full key, bypassing botfleet. */
  readRaw(key: string): Promise<string | undefined>;
  /** Writes raw text under a full key, bypassing botfleet. */
  writeRaw(key: string, value: string): Promise<void>;
  /** Every key under `namespace:`, sorted. */
  keys(): Promise<string[]>;
  cleanup(): Promise<void>;
}

/** How a backend test file plugs into the contract. */
export interface StoreFixture {
  readonly backend: StoreBackend;
  /** Whether a store opened from the same storage config sees what a closed one wrote
   * (false only for memory://, which is forgotten on close: README, storage). */
  readonly persistent: boolean;
  place(): Promise<StorePlace>;
}

/** A turn numbered `n`: fixed texts, times and update id derived from `n`. */
export function turn(n: number, text = `message ${n}`): Turn {
  return {
    user: `${text} from the user`,
    assistant: `${text} from the bot`,
    userAt: 1_735_689_600_000 + n * 1000,
    assistantAt: 1_735_689_600_000 + n * 1000 + 250,
    updateId: 10_000 + n,
  };
}

const CHAT: ConversationKey = { botId: 'helper', chatId: 424242 };

/** Registers the contract suite for `fixture`. */
export function runStoreContract(fixture: StoreFixture): void {
  describe(`ConversationStore contract on ${fixture.backend}`, () => {
    let place: StorePlace;
    let store: ConversationStoreHandle;
    let log: ReturnType<typeof captureLog>;

    beforeEach(async () => {
      log = captureLog();
      place = await fixture.place();
      store = await place.open(log.logger);
    });
    afterEach(async () => {
      await store.close();
      await place.cleanup();
    });

    it('opens the right backend, leaves no probe key behind and has no history at first', async () => {
      expect(store.backend).toBe(fixture.backend);
      expect(await store.load(CHAT)).toEqual([]);
      expect(await place.keys()).toEqual([]);
    });

    it('returns appended turns oldest first, with their timestamps and update ids', async () => {
      for (const n of [1, 2, 3]) await store.append(CHAT, turn(n), { maxTurns: 10 });
      expect(await store.load(CHAT)).toEqual([turn(1), turn(2), turn(3)]);
    });

    it('keeps only the newest maxTurns turns, in the stored value too', async () => {
      for (let n = 1; n <= 10; n++) await store.append(CHAT, turn(n), { maxTurns: 4 });
      expect(await store.load(CHAT)).toEqual([turn(7), turn(8), turn(9), turn(10)]);
      const raw = await place.readRaw(`${place.namespace}:helper:424242`);
      expect((JSON.parse(raw ?? 'null') as { turns: unknown[] }).turns).toHaveLength(4);
      await store.append(CHAT, turn(11), { maxTurns: 2 });
      expect(await store.load(CHAT)).toEqual([turn(10), turn(11)]);
    });

    it('stores readable keys and plain JSON values, as documented', async () => {
      await store.append({ botId: 'chef', chatId: -1001234, topicId: 42 }, turn(1), { maxTurns: 5 });
      await store.append(
        { botId: 'chef', chatId: -1001234, userId: 77 },
        { user: 'hi', assistant: 'hello', userAt: 1, assistantAt: 2 },
        { maxTurns: 5 },
      );
      const ns = place.namespace;
      expect(await place.keys()).toEqual([`${ns}:chef:-1001234:t42`, `${ns}:chef:-1001234:u77`]);
      expect(JSON.parse((await place.readRaw(`${ns}:chef:-1001234:t42`)) ?? 'null')).toEqual({
        v: 1,
        turns: [turn(1)],
      });
      expect(await place.readRaw(`${ns}:chef:-1001234:u77`)).toBe(
        '{"v":1,"turns":[{"user":"hi","assistant":"hello","userAt":1,"assistantAt":2}]}',
      );
    });

    it('windows a stored conversation far over the token budget to the newest turns that fit', async () => {
      const long = 'a sentence of some length that costs tokens. '.repeat(10);
      for (let n = 1; n <= 200; n++) await store.append(CHAT, turn(n, `${n}: ${long}`), { maxTurns: 200 });
      const turns = await store.load(CHAT);
      expect(turns).toHaveLength(200);
      const result = computeWindow({
        systemPrompt: 'You are terse.',
        turns,
        userText: 'and now?',
        window: { maxTurns: 200, maxTokens: 2000 },
      });
      expect(result.keptTurns).toBeGreaterThan(3);
      expect(result.keptTurns).toBeLessThan(30);
      const counted = result.messages.reduce((sum, message) => sum + encode(message.content).length + 3, 3);
      expect(counted).toBe(result.tokens);
      expect(counted).toBeLessThanOrEqual(2000);
      expect(result.messages.at(-2)?.content).toBe(turns[199]?.assistant);
      expect(result.messages[1]?.content).toBe(turns[200 - result.keptTurns]?.user);
    });

    it('resets one conversation only', async () => {
      const other: ConversationKey = { botId: 'helper', chatId: 5 };
      const otherBot: ConversationKey = { botId: 'chef', chatId: CHAT.chatId };
      for (const key of [CHAT, other, otherBot]) await store.append(key, turn(1), { maxTurns: 5 });
      await store.reset(CHAT);
      await store.reset({ botId: 'helper', chatId: 999 });
      expect(await store.load(CHAT)).toEqual([]);
      expect(await store.load(other)).toEqual([turn(1)]);
      expect(await store.load(otherBot)).toEqual([turn(1)]);
      await store.append(CHAT, turn(2), { maxTurns: 5 });
      expect(await store.load(CHAT)).toEqual([turn(2)]);
    });

    it('keeps bots, forum topics and group members apart', async () => {
      const keys: ConversationKey[] = [
        { botId: 'helper', chatId: -100 },
        { botId: 'chef', chatId: -100 },
        { botId: 'helper', chatId: -100, topicId: 1 },
        { botId: 'helper', chatId: -100, topicId: 2 },
        { botId: 'helper', chatId: -100, userId: 7 },
        { botId: 'helper', chatId: -100, topicId: 1, userId: 7 },
      ];
      for (const [index, key] of keys.entries()) await store.append(key, turn(index), { maxTurns: 5 });
      for (const [index, key] of keys.entries()) expect(await store.load(key)).toEqual([turn(index)]);
      expect(await place.keys()).toHaveLength(keys.length);
    });

    it(
      fixture.persistent
        ? 'keeps history across close and reopen'
        : 'starts empty after close and reopen (memory:// is not persistent)',
      async () => {
        // Both stores come from the user's storage config alone, as the app opens them.
        const open = () => openConversationStore({ storage: place.storage, logger: log.logger });
        const first = await open();
        await first.append(CHAT, turn(1), { maxTurns: 5 });
        expect(await first.load(CHAT)).toEqual([turn(1)]);
        await first.close();
        const second = await open();
        try {
          expect(await second.load(CHAT)).toEqual(fixture.persistent ? [turn(1)] : []);
        } finally {
          await second.close();
        }
      },
    );

    it('loses no turn with 1,000 concurrent appends over 100 conversations', async () => {
      const conversations = Array.from(
        { length: 100 },
        (_, index): ConversationKey => ({ botId: index % 2 === 0 ? 'helper' : 'chef', chatId: 1000 + index }),
      );
      const appends: Promise<void>[] = [];
      for (let n = 0; n < 10; n++) {
        for (const key of conversations) appends.push(store.append(key, turn(n), { maxTurns: 20 }));
      }
      await Promise.all(appends);
      const loaded = await Promise.all(conversations.map((key) => store.load(key)));
      for (const turns of loaded)
        expect(turns.map((t) => t.updateId)).toEqual(Array.from({ length: 10 }, (_, n) => 10_000 + n));
    });

    it('moves an unreadable value aside, logs it, and carries on with an empty history', async () => {
      const key = `${place.namespace}:helper:424242`;
      const garbage = '{"v":1,"turns":[{"user":"cut off';
      await place.writeRaw(key, garbage);
      expect(await store.load(CHAT)).toEqual([]);
      const asideKeys = (await place.keys()).filter((k) => k.startsWith(`${key}:corrupt:`));
      expect(asideKeys).toHaveLength(1);
      expect(asideKeys[0]).toMatch(/:corrupt:\d{13}$/);
      expect(await place.readRaw(asideKeys[0] ?? '')).toBe(garbage);
      const errors = log.lines().filter((line) => line.level === LEVEL.error);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ key, corruptKey: asideKeys[0] });
      expect(errors[0]?.msg).toContain('not JSON');
      await store.append(CHAT, turn(1), { maxTurns: 5 });
      expect(await store.load(CHAT)).toEqual([turn(1)]);
    });

    it('does not overwrite a value of the wrong shape on append: it is kept aside first', async () => {
      const key = `${place.namespace}:helper:424242`;
      await place.writeRaw(key, '{"v":1,"turns":"not a list"}');
      await store.append(CHAT, turn(1), { maxTurns: 5 });
      expect(await store.load(CHAT)).toEqual([turn(1)]);
      const aside = (await place.keys()).filter((k) => k.startsWith(`${key}:corrupt:`));
      expect(await Promise.all(aside.map((k) => place.readRaw(k)))).toEqual(['{"v":1,"turns":"not a list"}']);
      expect(log.lines().find((line) => line.level === LEVEL.error)?.msg).toContain('"turns" is not an array');
    });

    it('stores an update at most once and tells whether it was stored', async () => {
      await store.append(CHAT, turn(1), { maxTurns: 5 });
      await store.append(CHAT, { ...turn(1), assistant: 'a second answer' }, { maxTurns: 5 });
      expect(await store.load(CHAT)).toEqual([turn(1)]);
      expect((await store.read(CHAT)).answered).toEqual([turn(1).updateId]);
      expect((await store.read({ ...CHAT, topicId: 3 })).answered).toEqual([]);
    });

    it('refuses calls after close with a non-retryable StoreError', async () => {
      await store.close();
      const error = await store.load(CHAT).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(StoreError);
      expect(error).toMatchObject({ kind: 'storage', operation: 'load', retryable: false, backend: fixture.backend });
    });
  });
}
