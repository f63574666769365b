/** Shutdown in the middle of a streamed reply: bounded, the part shown stays, nothing stored. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFleetHarness, type FleetHarness } from '../support/fleet-harness.js';
import { waitFor } from '../support/wait-for.js';

const TOKEN = '3301:stop-token';

describe('shutdown during a streamed reply', () => {
  let h: FleetHarness;
  beforeEach(async () => {
    h = await createFleetHarness();
  });
  afterEach(async () => h.close());

  it('aborts the stream at the deadline without waiting out the edit floor; nothing is stored', async () => {
    const yaml = 'groups: { reply: always }\ntelegram: { firstMessageDelayMs: 50, groupEditIntervalMs: 5000 }';
    await h.writeConfig([{ id: 'stop', token: TOKEN, yaml }], { storageUrl: 'memory://' });
    const { fleet } = await h.start();
    h.openai.enqueueReply({ content: 'one two three four five six', stallAfterChunks: 3 });
    h.telegram.sendText(TOKEN, { chatId: -1001, userId: 1, text: 'go', chatType: 'supergroup' });
    const [sent] = await h.telegram.waitForSent(1, { token: TOKEN });
    expect(sent?.text).toBe('one two three');
    const started = Date.now();
    await fleet.stop(300);
    // Deadline 300 ms plus the 2 s grace, never the 5 s edit floor.
    expect(Date.now() - started).toBeLessThan(2500);
    expect(h.logs().filter((l) => String(l.msg).startsWith('replies still running after'))).toEqual([]);
    await waitFor(() => h.logs().find((l) => String(l.msg).startsWith('model request aborted by shutdown')));
    expect(h.telegram.sentMessages(TOKEN)).toHaveLength(1);
  });
});
