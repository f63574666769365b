/**
 * The journal of fetched updates bounds the updates still to be handled, not the answered ones:
 * each write removes the updates the bot settled since the last, so a replayed update that waits
 * its turn is not pushed out by newer batches (and lost to the next kill -9). Over the real
 * journals: a SQLite store's (update-journal.ts) and the Redis leases' (leases.ts).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Update } from 'grammy/types';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BotConfig } from '../src/config/types.js';
import { JOURNAL_MAX_UPDATES, JOURNAL_TTL_MS } from '../src/defaults.js';
import { createLogger } from '../src/logger.js';
import { openLeases } from '../src/memory/leases.js';
import { openStoreWithKeyv } from '../src/memory/open-store.js';
import type { UpdateJournal } from '../src/memory/update-journal.js';
import { carryOn, takeOver } from '../src/replica-handover.js';
import { keepUpdateOffset, type UpdateOffset } from '../src/telegram/api-setup.js';
import { captureLog } from './support/capture-log.js';
import { createFleetHarness, type FleetHarness, transcript } from './support/fleet-harness.js';
import { deleteRedisNamespace, SHARED_REDIS_URL } from './support/redis.js';
import { waitFor } from './support/wait-for.js';

const TOKEN = '555:journal';
const TELEGRAM_ID = '555';
// update_id last, as the fake Bot API (and maybe another sender) builds them: the journal must
// not depend on Telegram's field order.
const update = (id: number): Update => ({ message: { text: `m${id}` }, update_id: id }) as unknown as Update;
/** An update as the journal keeps it (carryOn writes update_id first). */
const journaled = (id: number): string => JSON.stringify({ update_id: id, message: { text: `m${id}` } });
const idsOf = (texts: readonly string[]): number[] => texts.map((text) => (JSON.parse(text) as Update).update_id);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function withJournal(kind: 'sqlite' | 'redis', body: (journal: UpdateJournal) => Promise<void>): Promise<void> {
  if (kind === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'botfleet-journal-settled-'));
    const storage = { url: `sqlite://${join(dir, 'botfleet.sqlite')}`, namespace: 'ns' };
    const { store } = await openStoreWithKeyv({ storage, logger: captureLog().logger });
    try {
      await body(store.updateJournal);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
    return;
  }
  const namespace = `journal-settled-${randomUUID()}`;
  const leases = await openLeases({
    url: SHARED_REDIS_URL,
    namespace,
    owner: 'a',
    connectTimeoutMs: 2000,
    operationTimeoutMs: 1000,
    reconnectMaxDelayMs: 200,
  });
  try {
    await body(leases);
  } finally {
    await leases.close();
    await deleteRedisNamespace(SHARED_REDIS_URL, namespace);
  }
}

const BOT = { id: 'b', token: TOKEN } as BotConfig;

/** Takes BOT over from `journal` as a restart does, the marks saying the ids up to
 * `answeredUpTo` were answered; `offset()` is the token's entry as it is now. */
async function takeOverFrom(journal: UpdateJournal, answeredUpTo = 0) {
  const offsets = new Map<string, UpdateOffset>();
  const deps = {
    journal,
    offsets,
    logger: createLogger({ level: 'error', destination: new PassThrough() }),
    answered: async (_bot: BotConfig, updates: readonly Update[]) =>
      new Set(updates.map((u) => u.update_id).filter((id) => id <= answeredUpTo)),
  };
  await takeOver(BOT, deps);
  return { deps, offset: () => offsets.get(TOKEN) as UpdateOffset };
}

/** One getUpdates through keepUpdateOffset, Telegram answering `ids`: what reaches the bot,
 * once the batch's journal write (which the next poll would wait for) is done. */
async function pollOnce(offset: UpdateOffset, ids: readonly number[]): Promise<Update[]> {
  const prev = async () => ({ ok: true as const, result: ids.map(update) });
  // biome-ignore lint/suspicious/noExplicitAny: grammY's Transformer types are generic over every method.
  const response = await keepUpdateOffset(offset)(prev as any, 'getUpdates', { offset: offset.next } as any);
  await offset.journaling;
  return (response as unknown as { result: Update[] }).result;
}

describe.each(['sqlite', 'redis'] as const)('the update journal (%s)', (kind) => {
  it('keeps a replayed update that waits its turn while newer batches are answered', async () => {
    await withJournal(kind, async (journal) => {
      // A killed holder left a full journal: 1..97 answered (the marks say so), 98..100 not.
      await journal.journal('b', TELEGRAM_ID, range(1, 100).map(journaled), 60_000, 100);
      const { offset } = await takeOverFrom(journal, 97);
      // Three polls of 40 new updates each; the bot answers each batch's new updates, while the
      // replays (98..100) still wait behind a slow conversation.
      for (let round = 0, next = 101; round < 3; round++, next += 40) {
        for (const handed of await pollOnce(offset(), range(next, next + 39)))
          if (handed.update_id > 100) offset().settled?.(handed);
      }
      const kept = idsOf(await journal.readJournal('b', TELEGRAM_ID));
      expect(kept).toEqual(expect.arrayContaining([98, 99, 100]));
      // What the last write left: the replays and the newest batch, nothing answered before it.
      expect(kept).toEqual([98, 99, 100, ...range(181, 220)]);
      expect(kept.length).toBeLessThanOrEqual(JOURNAL_MAX_UPDATES);
    });
  });

  it("keeps every replay when a restart's first batch is a full one (the journal bounds what is still to handle)", async () => {
    await withJournal(kind, async (journal) => {
      // A killed holder left 100 journaled updates: 1..40 answered, 41..100 not.
      await journal.journal('b', TELEGRAM_ID, range(1, 100).map(journaled), 60_000, 100);
      const { offset } = await takeOverFrom(journal, 40);
      // The downtime piled up 100 new updates: the first poll returns them all.
      await pollOnce(offset(), range(101, 200));
      expect(idsOf(await journal.readJournal('b', TELEGRAM_ID))).toEqual(range(41, 200));
    });
  });

  it('lets go of what was handled on an empty poll too, and across a reload restart of the bot', async () => {
    await withJournal(kind, async (journal) => {
      const { deps, offset } = await takeOverFrom(journal);
      await pollOnce(offset(), [1, 2, 3]);
      offset().settled?.(update(1));
      // A reload restarts the bot: a new entry for the same bot and token, carrying on.
      carryOn(BOT, 0, [], deps);
      offset().settled?.(update(2));
      await pollOnce(offset(), []);
      expect(idsOf(await journal.readJournal('b', TELEGRAM_ID))).toEqual([3]);
    });
  });

  it('removes only the settled ids given, whatever else the entries hold', async () => {
    await withJournal(kind, async (journal) => {
      const texts = [1, 2, 3].map(journaled);
      await journal.journal('b', TELEGRAM_ID, texts, JOURNAL_TTL_MS, 100);
      await journal.journal('b', TELEGRAM_ID, ['{"update_id":4}', 'not json'], JOURNAL_TTL_MS, 100, [2, 4, 40]);
      expect(await journal.readJournal('b', TELEGRAM_ID)).toEqual([texts[0], texts[2], '{"update_id":4}', 'not json']);
    });
  });
});

describe('the journal of a running fleet (SQLite)', () => {
  let h: FleetHarness;
  beforeEach(async () => {
    h = await createFleetHarness();
  });
  afterEach(async () => h.close());

  it('lets go of the messages turned away as busy: a flood never crowds out those still waiting', async () => {
    const token = '556:journal-flood';
    const yaml = 'telegram: { maxWaitingPerConversation: 2 }\nreplies: { busy: busy now }';
    await h.writeConfig([{ id: 'flood', token, yaml }]);
    await h.start();
    h.openai.setLatency(1500);
    // One running, two waiting, twenty turned away as busy.
    const flood = Array.from({ length: 23 }, (_, i) =>
      h.telegram.sendText(token, { chatId: 9, userId: 9, text: `m${i}` }),
    );
    await waitFor(() => h.telegram.sentMessages(token, 9).some((m) => m.text === 'busy now'), { what: 'busy now' });
    // Later messages from other chats: their batches' journal writes remove what was settled.
    // (Two, one after the other: the first busy one is settled once its note is recorded, which
    // may come after the first of them was fetched.)
    for (const [i, text] of ['later', 'later again'].entries()) {
      h.telegram.sendText(token, { chatId: 10 + i, userId: 10 + i, text });
      await waitFor(() => h.openai.requests().some((r) => transcript(r.body).at(-1) === `user: ${text}`), {
        what: `"${text}" reached the model`,
      });
    }
    const { store } = await openStoreWithKeyv({
      storage: { url: `sqlite://${join(h.dir, 'data', 'botfleet.sqlite')}`, namespace: h.namespace },
      logger: captureLog().logger,
    });
    try {
      const journaled = idsOf(await store.updateJournal.readJournal('flood', '556'));
      // Every busy one is gone; what may remain is the running one, the two waiting, and the later two.
      expect(journaled.filter((id) => flood.indexOf(id) >= 3)).toEqual([]);
      expect(journaled.length).toBeLessThanOrEqual(5);
    } finally {
      await store.close();
    }
  }, 30_000);
});
