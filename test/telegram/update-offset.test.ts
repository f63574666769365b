/**
 * keepUpdateOffset with a journal replay: the replayed updates that Telegram has not confirmed
 * yet come back from Telegram too, maybe in a later batch than the replay's (a batch holds at
 * most `limit`); each update reaches the bot once, in Telegram's order.
 */
import type { Update } from 'grammy/types';
import { describe, expect, it } from 'vitest';
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
