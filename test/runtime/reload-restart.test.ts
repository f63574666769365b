/**
 * A reload that restarts a bot (a changed `telegram` setting): the new runner goes on from the
 * update offset the old one reached, and a fleet stop during the restart's drain is bounded by
 * the stop's own deadline, not the reload's.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FleetConfig } from '../../src/config/types.js';
import { createFleetHarness, type FleetHarness } from '../support/fleet-harness.js';

const TOKEN = '9201:restart-token';

/** `config` with its one bot's maxConcurrentUpdates changed: a change that restarts the bot. */
function withConcurrency(config: FleetConfig, maxConcurrentUpdates: number): FleetConfig {
  const [bot] = config.bots;
  if (bot === undefined) throw new Error('expected one bot');
  return { ...config, bots: [{ ...bot, telegram: { ...bot.telegram, maxConcurrentUpdates } }] };
}

describe('a reload restarting a bot', () => {
  let h: FleetHarness;
  beforeEach(async () => {
    h = await createFleetHarness();
  });
  afterEach(async () => h.close());

  it('starts the new runner at the offset the old one reached', async () => {
    await h.writeConfig([{ id: 'restart', token: TOKEN }], { storageUrl: 'memory://' });
    const { fleet, config } = await h.start();
    try {
      const answered = h.telegram.sendText(TOKEN, { chatId: 1, userId: 1, text: 'before the reload' });
      await h.telegram.waitForSent(1, { token: TOKEN });
      const since = h.telegram.nextSeq();
      expect((await fleet.apply(withConcurrency(config, 3))).restarted.map((bot) => bot.id)).toEqual(['restart']);
      const poll = await h.telegram.waitForCall((call) => call.method === 'getUpdates', { since });
      expect((poll.params as { offset?: number }).offset).toBeGreaterThan(answered);
    } finally {
      await fleet.stop(500);
    }
  });

  it('lets a later fleet.stop(d) shorten the drain the reload started', async () => {
    await h.writeConfig([{ id: 'restart', token: TOKEN }], { storageUrl: 'memory://', provider: 'timeoutMs: 30000' });
    const { fleet, config } = await h.start();
    h.openai.failNext({ kind: 'hang' });
    h.telegram.sendText(TOKEN, { chatId: 2, userId: 2, text: 'hangs through the reload' });
    await h.openai.waitForRequest();
    const applied = fleet.apply(withConcurrency(config, 3)); // drains with the default 10 s
    await new Promise((resolve) => setImmediate(resolve)); // the reload's drain has begun
    const startedAt = Date.now();
    await fleet.stop(300);
    // Deadline 300 ms plus the 2 s grace; the reload's own drain would take 10 s and more.
    expect(Date.now() - startedAt).toBeLessThan(6000);
    await expect(applied).resolves.toMatchObject({ failed: [{ id: 'restart', reason: 'botfleet is stopping' }] });
    expect(h.telegram.sentMessages(TOKEN, 2)).toEqual([]);
  });
});
