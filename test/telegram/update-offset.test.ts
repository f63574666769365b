/**
 * keepUpdateOffset with a journal replay: the replayed updates that Telegram has not confirmed
 * yet come back from Telegram too, maybe in a later batch than the replay's (a batch holds at
 * most `limit`); each update reaches the bot once, in Telegram's order.
 */
import { PassThrough } from 'node:stream';
import type { Update } from 'grammy/types';
import { describe, expect, it } from 'vitest';
import type { BotConfig } from '../../src/config/types.js';
import { createLogger } from '../../src/logger.js';
import type { UpdateJournal } from '../../src/memory/update-journal.js';
import { carryOn } from '../../src/replica-handover.js';
import { keepUpdateOffset, type UpdateOffset } from '../../src/telegram/api-setup.js';

const update = (id: number): Update => ({ update_id: id }) as Update;

describe('keepUpdateOffset', () => {
  it('hands each replayed update to the bot once and in order, even when Telegram sends it again in a later batch', async () => {
    let pending: Update[] = [update(5), update(6), update(7)];
    const offset: UpdateOffset = {
      next: 5,
      replay: () => {
        const out = pending;
        pending = [];
        return out;
      },
      replayLater: (updates) => {
        pending = [...updates, ...pending];
      },
    };
    // Telegram's side: updates 5..8 unconfirmed, at most two per batch.
    const batches = [[update(5), update(6)], [update(7), update(8)], []];
    const asked: number[] = [];
    const prev = async (_method: string, payload: { offset?: number }) => {
      asked.push(payload.offset ?? 0);
      return { ok: true as const, result: batches.shift() ?? [] };
    };
    const transform = keepUpdateOffset(offset);
    const seen: number[] = [];
    for (let poll = 0; poll < 3; poll++) {
      // biome-ignore lint/suspicious/noExplicitAny: grammY's Transformer types are generic over every method.
      const response = (await transform(prev as any, 'getUpdates', { offset: offset.next } as any)) as unknown as {
        result: Update[];
      };
      seen.push(...response.result.map((u) => u.update_id));
    }
    expect(seen).toEqual([5, 6, 7, 8]);
    expect(asked).toEqual([5, 7, 9]);
  });
});

describe('keepUpdateOffset with the hand-over journal', () => {
  it('sends the next getUpdates (which confirms a batch to Telegram) only once that batch is journaled', async () => {
    // The journal (the store's port) answers each append only when the test lets it.
    const appended: number[][] = [];
    const releases: (() => void)[] = [];
    const journal: UpdateJournal = {
      readOffset: async () => 0,
      writeOffset: async () => undefined,
      readJournal: async () => [],
      journal: (_bot, _id, texts) =>
        new Promise<void>((resolve) => {
          releases.push(() => {
            appended.push(texts.map((text) => (JSON.parse(text) as Update).update_id));
            resolve();
          });
        }),
    };
    const offsets = new Map<string, UpdateOffset>();
    const bot = { id: 'b', token: '123:abc' } as BotConfig;
    carryOn(bot, 0, [], { journal, offsets, logger: createLogger({ level: 'error', destination: new PassThrough() }) });
    const transform = keepUpdateOffset(offsets.get(bot.token));
    const sentOffsets: number[] = [];
    const batches = [[update(41), update(42)], [update(43)]];
    const prev = async (_method: string, payload: { offset: number }) => {
      sentOffsets.push(payload.offset);
      return { ok: true as const, result: batches.shift() ?? [] };
    };
    const poll = () =>
      // biome-ignore lint/suspicious/noExplicitAny: grammY's Transformer types are generic over every method.
      (transform(prev as any, 'getUpdates', { offset: 0 } as any) as Promise<unknown>).then(
        (r) => (r as { result: Update[] }).result,
      );
    // The bot gets the batch while its journal write is still under way...
    const first = await poll();
    expect(first.map((u) => u.update_id)).toEqual([41, 42]);
    expect(releases).toHaveLength(1);
    // ...but the next poll, which would confirm it to Telegram, waits for that write.
    const second = poll();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(sentOffsets).toEqual([0]);
    releases[0]?.();
    expect((await second).map((u) => u.update_id)).toEqual([43]);
    expect(sentOffsets).toEqual([0, 43]);
    expect(appended).toEqual([[41, 42]]);
  });

  it("carries a write under way over a reload: the new entry's first poll waits for it", async () => {
    let release: () => void = () => undefined;
    const journal: UpdateJournal = {
      readOffset: async () => 0,
      writeOffset: async () => undefined,
      readJournal: async () => [],
      journal: () =>
        new Promise<void>((resolve) => {
          release = resolve;
        }),
    };
    const offsets = new Map<string, UpdateOffset>();
    const bot = { id: 'b', token: '123:abc' } as BotConfig;
    const deps = { journal, offsets, logger: createLogger({ level: 'error', destination: new PassThrough() }) };
    carryOn(bot, 0, [], deps);
    const sentOffsets: number[] = [];
    const prev = async (_method: string, payload: { offset: number }) => {
      sentOffsets.push(payload.offset);
      return { ok: true as const, result: sentOffsets.length === 1 ? [update(41)] : [] };
    };
    // biome-ignore lint/suspicious/noExplicitAny: grammY's Transformer types are generic over every method.
    await keepUpdateOffset(offsets.get(bot.token))(prev as any, 'getUpdates', { offset: 0 } as any);
    carryOn(bot, 0, [], deps); // a reload replaces the entry while the write is under way
    // biome-ignore lint/suspicious/noExplicitAny: grammY's Transformer types are generic over every method.
    const next = keepUpdateOffset(offsets.get(bot.token))(prev as any, 'getUpdates', { offset: 0 } as any);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(sentOffsets).toEqual([0]);
    release();
    await next;
    expect(sentOffsets).toEqual([0, 42]);
  });

  it('still hands the batch over when the journal write fails (logged; Telegram keeps what it has not confirmed)', async () => {
    const journal: UpdateJournal = {
      readOffset: async () => 0,
      writeOffset: async () => undefined,
      readJournal: async () => [],
      journal: async () => {
        throw new Error('store down');
      },
    };
    const offsets = new Map<string, UpdateOffset>();
    const bot = { id: 'b', token: '123:abc' } as BotConfig;
    const lines: string[] = [];
    const destination = new PassThrough();
    destination.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
    const logger = createLogger({ level: 'warn', destination });
    carryOn(bot, 0, [], { journal, offsets, logger });
    const transform = keepUpdateOffset(offsets.get(bot.token));
    const prev = async () => ({ ok: true as const, result: [update(7)] });
    // biome-ignore lint/suspicious/noExplicitAny: grammY's Transformer types are generic over every method.
    const response = (await transform(prev as any, 'getUpdates', { offset: 0 } as any)) as unknown as {
      result: Update[];
    };
    expect(response.result.map((u) => u.update_id)).toEqual([7]);
    await offsets.get(bot.token)?.journaling; // the next poll waits for it; it never rejects
    expect(lines.join('')).toContain('could not store the update journal');
  });
});
