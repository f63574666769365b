/** A bot streaming in many chats at once stays under its per-bot update budget. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STREAM_UPDATES_PER_SECOND } from '../../src/defaults.js';
import { renderTelegram } from '../../src/format/render.js';
import { createBudget } from '../../src/telegram/stream-budget.js';
import { createFleetHarness, type FleetHarness } from '../support/fleet-harness.js';
import { waitFor } from '../support/wait-for.js';

const TOKEN = '3201:budget-token';
const CHATS = 30;
const WORDS = Array.from({ length: 80 }, (_, i) => `word${i}`).join(' ');

describe('the per-bot budget of streamed updates', () => {
  it('counts update starts in a sliding second; a forced one always goes', () => {
    const budget = createBudget(2);
    expect([budget.take(false), budget.take(false), budget.take(false)]).toEqual([true, true, false]);
    expect(budget.take(true)).toBe(true);
  });

  describe('through the fleet', () => {
    let h: FleetHarness;
    beforeEach(async () => {
      h = await createFleetHarness();
    });
    afterEach(async () => h.close());

    it(`keeps ${CHATS} chats streaming at once under ${STREAM_UPDATES_PER_SECOND} edits per second`, async () => {
      const pacing = 'telegram: { firstMessageDelayMs: 50, editIntervalMs: 50, maxConcurrentUpdates: 100 }';
      await h.writeConfig([{ id: 'budget', token: TOKEN, yaml: pacing }], { storageUrl: 'memory://' });
      await h.start();
      h.openai.setReply({ content: WORDS, chunkDelayMs: 50 });
      for (let chat = 1; chat <= CHATS; chat += 1)
        h.telegram.sendText(TOKEN, { chatId: chat, userId: chat, text: 'go' });
      const final = renderTelegram(WORDS).text;
      await waitFor(
        () =>
          h.telegram.sentMessages(TOKEN).length === CHATS &&
          h.telegram.sentMessages(TOKEN).every((m) => h.telegram.message(TOKEN, m.chatId, m.messageId)?.text === final),
        { timeoutMs: 20_000 },
      );
      // Only the edits before any stream ended: the final edits are forced, and all come at once.
      const firstEnd = Math.min(...h.openai.requests().map((r) => r.outcome?.endedAt ?? Infinity));
      const edits = h.telegram.calls(TOKEN, 'editMessageText').filter((call) => call.at < firstEnd);
      expect(edits.length).toBeGreaterThan(STREAM_UPDATES_PER_SECOND);
      // At most the budget in every second of the span, plus one second's worth for the arrival
      // jitter of a loaded machine (without the budget: hundreds per second).
      const spanSeconds = ((edits.at(-1)?.at ?? 0) - (edits[0]?.at ?? 0)) / 1000;
      expect(edits.length).toBeLessThanOrEqual(STREAM_UPDATES_PER_SECOND * (Math.ceil(spanSeconds) + 1));
    }, 30_000);
  });
});
