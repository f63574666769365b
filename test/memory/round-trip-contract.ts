/**
 * The store's round trips, run on every backend like store-contract.ts: a turn (read, then
 * append) is one get and one set on the backend's Keyv when nothing else touched the
 * conversation in between, and whatever did touch it (reset, markAnswered, storeSummary,
 * another store over the same Keyv, a failed read, a value set aside) is never lost: the append
 * reads again. Calls are counted by a plain wrapper object around the real Keyv.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKeyvConversationStore, type KeyvConversationStoreDeps } from '../../src/memory/conversation-store.js';
import { type ConversationKey, conversationKey } from '../../src/memory/keys.js';
import type { ConversationStoreHandle } from '../../src/memory/open-store.js';
import { RECENT_READS_LIMIT } from '../../src/memory/recent-reads.js';
import { captureLog } from '../support/capture-log.js';
import { type StoreFixture, type StorePlace, turn } from './store-contract.js';

const CHAT: ConversationKey = { botId: 'helper', chatId: 616161 };

/** The backend's Keyv, every call counted; `failGets` makes the next gets reject, `failSets`
 * the next sets (after they reached the backend: a timed-out write that landed anyway). */
interface Counting {
  readonly keyv: KeyvConversationStoreDeps['keyv'];
  readonly calls: { get: number; set: number; delete: number };
  failGets: number;
  failSets: number;
}

function counting(keyv: KeyvConversationStoreDeps['keyv']): Counting {
  const counted: Counting = {
    calls: { get: 0, set: 0, delete: 0 },
    failGets: 0,
    failSets: 0,
    keyv: {
      get(key) {
        counted.calls.get++;
        if (counted.failGets > 0) {
          counted.failGets--;
          return Promise.reject(new Error('get failed (test)'));
        }
        return keyv.get(key);
      },
      async set(key, value) {
        counted.calls.set++;
        const done = await keyv.set(key, value);
        if (counted.failSets > 0) {
          counted.failSets--;
          throw new Error('set failed (test)');
        }
        return done;
      },
      delete(key) {
        counted.calls.delete++;
        return keyv.delete(key);
      },
    },
  };
  return counted;
}

/** Registers the round-trip contract suite for `fixture`. */
export function runRoundTripContract(fixture: StoreFixture): void {
  describe(`ConversationStore round trips on ${fixture.backend}`, () => {
    let place: StorePlace;
    let handle: ConversationStoreHandle;
    let counted: Counting;
    const storeOver = (keyv: KeyvConversationStoreDeps['keyv'], reuseReadMs?: number) =>
      createKeyvConversationStore({
        keyv,
        namespace: place.namespace,
        backend: fixture.backend,
        url: 'test',
        logger: captureLog().logger,
        operationTimeoutMs: 5000,
        ...(reuseReadMs === undefined ? {} : { reuseReadMs }),
      });
    let store: ReturnType<typeof storeOver>;
    const reset = (): void => {
      Object.assign(counted.calls, { get: 0, set: 0, delete: 0 });
    };

    beforeEach(async () => {
      place = await fixture.place();
      const opened = await place.openWithKeyv(captureLog().logger);
      handle = opened.store;
      counted = counting(opened.keyv as unknown as KeyvConversationStoreDeps['keyv']);
      store = storeOver(counted.keyv);
      for (const n of [1, 2]) await store.append(CHAT, turn(n), { maxTurns: 10 });
      reset();
    });
    afterEach(async () => {
      await store.drain();
      await handle.close();
      await place.cleanup();
    });

    it('a turn (read, then append) is one get and one set when nothing else touched the conversation', async () => {
      const state = await store.read(CHAT);
      await store.append(CHAT, turn(3), { maxTurns: 10 });
      expect(counted.calls).toEqual({ get: 1, set: 1, delete: 0 });
      expect(state.turns).toEqual([turn(1), turn(2)]);
      expect(await store.load(CHAT)).toEqual([1, 2, 3].map((n) => turn(n)));
    });

    it("a joined turn records the other updates answered in the turn's one write", async () => {
      await store.read(CHAT);
      await store.append(CHAT, turn(3), { maxTurns: 10, alsoAnswered: [501, 502] });
      expect(counted.calls).toEqual({ get: 1, set: 1, delete: 0 });
      const raw = JSON.parse((await place.readRaw(conversationKey(place.namespace, CHAT))) ?? 'null');
      expect(raw).toMatchObject({ answered: [501, 502] });
      // A redelivered turn already stored still records joined ids it did not have.
      await store.append(CHAT, turn(3), { maxTurns: 10, alsoAnswered: [502, 503] });
      expect((await store.read(CHAT)).answered).toEqual([501, 502, 503, 10_001, 10_002, 10_003]);
      expect(await store.load(CHAT)).toEqual([1, 2, 3].map((n) => turn(n)));
    });

    it('never reuses a read after a reset, a markAnswered or another append', async () => {
      await store.read(CHAT);
      await store.reset(CHAT, 99);
      await store.append(CHAT, turn(3), { maxTurns: 10 });
      expect(await store.load(CHAT)).toEqual([turn(3)]);
      await store.read(CHAT);
      await store.markAnswered(CHAT, 77);
      await store.append(CHAT, turn(4), { maxTurns: 10 });
      await store.append(CHAT, turn(5), { maxTurns: 10 });
      const state = await store.read(CHAT);
      expect(state.turns).toEqual([3, 4, 5].map((n) => turn(n)));
      expect(state.answered).toEqual([10_001, 10_002, 99, 77, 10_003, 10_004, 10_005]);
    });

    it('never reuses a read after a summary was stored', async () => {
      const keep = { maxTurns: 1, unsummarisedLimit: 5 };
      const before = await store.read(CHAT);
      const stored = await store.storeSummary(CHAT, {
        text: 'the first turn',
        covered: before.turns.slice(0, 1),
        basedOn: undefined,
        at: 1_735_700_000_000,
      });
      expect(stored).toBe(true);
      await store.append(CHAT, turn(3), keep);
      const state = await store.read(CHAT);
      expect(state.summary?.text).toBe('the first turn');
      expect(state.turns).toEqual([turn(2), turn(3)]);
    });

    it('never reuses a read after another store over the same Keyv wrote the conversation', async () => {
      const other = storeOver(counted.keyv);
      await store.read(CHAT);
      await other.append(CHAT, turn(3), { maxTurns: 10 });
      await store.append(CHAT, turn(4), { maxTurns: 10 });
      // A read of the other store in between, then its write: still read again.
      await store.read(CHAT);
      await other.read(CHAT);
      await other.markAnswered(CHAT, 88);
      await store.append(CHAT, turn(5), { maxTurns: 10 });
      await other.drain();
      const state = await store.read(CHAT);
      expect(state.turns).toEqual([1, 2, 3, 4, 5].map((n) => turn(n)));
      expect(state.answered).toContain(88);
    });

    it('reads again after a failed read, a value set aside, or with reuseReadMs 0', async () => {
      counted.failGets = 1;
      await expect(store.read(CHAT)).rejects.toThrow('get failed (test)');
      await store.append(CHAT, turn(3), { maxTurns: 10 });
      expect(counted.calls).toMatchObject({ get: 2, set: 1 });
      expect(await store.load(CHAT)).toEqual([1, 2, 3].map((n) => turn(n)));

      const key = conversationKey(place.namespace, CHAT);
      await place.writeRaw(key, '{"v":1,"turns":"not a list"}');
      expect((await store.read(CHAT)).lost).toBeDefined();
      await place.writeRaw(key, JSON.stringify({ v: 1, turns: [turn(7)] }));
      await store.append(CHAT, turn(8), { maxTurns: 10 });
      expect(await store.load(CHAT)).toEqual([turn(7), turn(8)]);

      const eager = storeOver(counted.keyv, 0);
      reset();
      await eager.read(CHAT);
      await eager.append(CHAT, turn(9), { maxTurns: 10 });
      expect(counted.calls).toEqual({ get: 2, set: 1, delete: 0 });
      await eager.drain();
    });

    it('reads again for itself for a while after a write that failed (it may land after a later read)', async () => {
      counted.failSets = 1;
      await expect(store.append(CHAT, turn(3), { maxTurns: 10 })).rejects.toThrow();
      reset();
      await store.read(CHAT);
      await store.append(CHAT, turn(4), { maxTurns: 10 });
      expect(counted.calls).toMatchObject({ get: 2, set: 1 });
    });

    it('remembers a bounded number of reads: past RECENT_READS_LIMIT the oldest is read again', async () => {
      await store.read(CHAT);
      for (let chat = 1; chat <= RECENT_READS_LIMIT; chat++) await store.read({ ...CHAT, chatId: chat });
      reset();
      await store.append(CHAT, turn(3), { maxTurns: 10 });
      await store.append({ ...CHAT, chatId: RECENT_READS_LIMIT }, turn(4), { maxTurns: 10 });
      expect(counted.calls).toEqual({ get: 1, set: 2, delete: 0 });
      expect(await store.load(CHAT)).toEqual([1, 2, 3].map((n) => turn(n)));
    });
  });
}
