/**
 * The summary part of the ConversationStore contract (window.summary), run on every backend
 * like store-contract.ts: turns past the window stay stored until a summary covering them is
 * stored, and storing a summary drops exactly the turns it covers in the same single write.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConversationKey } from '../../src/memory/keys.js';
import type { ConversationStoreHandle } from '../../src/memory/open-store.js';
import { captureLog, LEVEL } from '../support/capture-log.js';
import { type StoreFixture, type StorePlace, turn } from './store-contract.js';

const CHAT: ConversationKey = { botId: 'helper', chatId: 515151 };
const KEEP = { maxTurns: 3, unsummarisedLimit: 5 };

/** Registers the summary contract suite for `fixture`. */
export function runSummaryContract(fixture: StoreFixture): void {
  describe(`ConversationStore summaries on ${fixture.backend}`, () => {
    let place: StorePlace;
    let store: ConversationStoreHandle;
    let log: ReturnType<typeof captureLog>;
    const raw = async (): Promise<Record<string, unknown> | null> =>
      JSON.parse((await place.readRaw(`${place.namespace}:helper:515151`)) ?? 'null') as Record<string, unknown> | null;

    beforeEach(async () => {
      log = captureLog();
      place = await fixture.place();
      store = await place.open(log.logger);
    });
    afterEach(async () => {
      await store.close();
      await place.cleanup();
    });

    it('keeps the turns past maxTurns while they wait for a summary', async () => {
      for (let n = 1; n <= 6; n++) await store.append(CHAT, turn(n), KEEP);
      const state = await store.read(CHAT);
      expect(state.turns).toEqual([1, 2, 3, 4, 5, 6].map((n) => turn(n)));
      expect(state.summary).toBeUndefined();
    });

    it('stores a summary and drops exactly the turns it covers, in one plain-JSON value', async () => {
      for (let n = 1; n <= 5; n++) await store.append(CHAT, turn(n), KEEP);
      const stored = await store.storeSummary(CHAT, {
        text: 'FACT: one\nFACT: two',
        covered: [turn(1), turn(2)],
        basedOn: undefined,
        at: 1_800_000_000_000,
      });
      expect(stored).toBe(true);
      const summary = { text: 'FACT: one\nFACT: two', turns: 2, throughUserAt: turn(2).userAt, at: 1_800_000_000_000 };
      expect(await raw()).toEqual({ v: 1, turns: [turn(3), turn(4), turn(5)], answered: [10_001, 10_002], summary });
      const state = await store.read(CHAT);
      expect(state.summary).toEqual(summary);
      expect(state.answered).toEqual(expect.arrayContaining([10_001, 10_002, 10_003]));

      await store.append(CHAT, turn(6), KEEP);
      const next = await store.storeSummary(CHAT, {
        text: 'FACT: one\nFACT: two\nFACT: three',
        covered: [turn(3)],
        basedOn: summary,
        at: 1_800_000_001_000,
      });
      expect(next).toBe(true);
      expect(await store.read(CHAT)).toMatchObject({
        turns: [turn(4), turn(5), turn(6)],
        summary: { text: 'FACT: one\nFACT: two\nFACT: three', turns: 3, throughUserAt: turn(3).userAt },
      });
    });

    it('refuses a summary built on a state that changed meanwhile, and changes nothing', async () => {
      for (let n = 1; n <= 5; n++) await store.append(CHAT, turn(n), KEEP);
      const first = { text: 'S1', covered: [turn(1)], basedOn: undefined, at: 1 };
      expect(await store.storeSummary(CHAT, first)).toBe(true);
      const before = await raw();
      // Built on no summary, but there is one now; and built on turns that are gone.
      expect(await store.storeSummary(CHAT, { ...first, text: 'stale' })).toBe(false);
      const current = (await store.read(CHAT)).summary;
      expect(await store.storeSummary(CHAT, { text: 'S2', covered: [turn(1)], basedOn: current, at: 2 })).toBe(false);
      expect(await raw()).toEqual(before);
      // A /reset in between: the turns it covers are gone.
      await store.reset(CHAT);
      expect(await store.storeSummary(CHAT, { text: 'S3', covered: [turn(2)], basedOn: current, at: 3 })).toBe(false);
      expect((await store.read(CHAT)).summary).toBeUndefined();
    });

    it('/reset forgets the summary with the turns', async () => {
      for (let n = 1; n <= 4; n++) await store.append(CHAT, turn(n), KEEP);
      await store.storeSummary(CHAT, { text: 'FACT: x', covered: [turn(1)], basedOn: undefined, at: 5 });
      await store.reset(CHAT, 99);
      expect(await raw()).toEqual({ v: 1, turns: [], answered: [10_001, 10_002, 10_003, 10_004, 99] });
      expect((await store.read(CHAT)).summary).toBeUndefined();
    });

    it('keeps the summary through appends and answered marks', async () => {
      await store.append(CHAT, turn(1), KEEP);
      await store.append(CHAT, turn(2), KEEP);
      await store.storeSummary(CHAT, { text: 'FACT: kept', covered: [turn(1)], basedOn: undefined, at: 5 });
      await store.markAnswered(CHAT, 7);
      await store.append(CHAT, turn(3), KEEP);
      expect((await store.read(CHAT)).summary?.text).toBe('FACT: kept');
    });

    it('bounds the turns waiting for a summary: past maxTurns + unsummarisedLimit the oldest go, with a warning', async () => {
      for (let n = 1; n <= 10; n++) await store.append(CHAT, turn(n), KEEP);
      expect((await store.read(CHAT)).turns.map((t) => t.updateId)).toEqual(
        [3, 4, 5, 6, 7, 8, 9, 10].map((n) => 10_000 + n),
      );
      const warnings = log.lines().filter((line) => line.level === LEVEL.warn);
      expect(warnings).toHaveLength(2);
      expect(warnings[0]?.msg).toMatch(/never summarised/);
      expect((await store.read(CHAT)).answered).toEqual(expect.arrayContaining([10_001, 10_002]));
    });
  });
}
