/** Shutdown in the middle of a streamed reply: bounded, the part shown ends with the cut-off
 * note, nothing stored, nothing sent once stop() resolved. */
import type { Update } from 'grammy/types';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFleetHarness, type FleetHarness, transcript } from '../support/fleet-harness.js';
import { waitFor } from '../support/wait-for.js';

const TOKEN = '3301:stop-token';
const CUT_OFF = '… (cut off: I could not finish this answer, please ask again)';

/** The update as the fake delivered it (from the recorded getUpdates answers). */
function delivered(h: FleetHarness, updateId: number): Update {
  for (const call of h.telegram.calls(TOKEN, 'getUpdates')) {
    const result = (call.outcome?.response as { result?: Update[] } | undefined)?.result ?? [];
    const update = result.find((u) => u.update_id === updateId);
    if (update !== undefined) return update;
  }
  throw new Error(`update ${updateId} was never delivered`);
}

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

describe('shutdown during a streamed reply, cut off like a model failure', () => {
  let h: FleetHarness;
  beforeEach(async () => {
    h = await createFleetHarness();
  });
  afterEach(async () => h.close());

  it('ends the part shown with the cut-off note within deadline + grace, sends nothing after, stores nothing, never answers again', async () => {
    const yaml = 'telegram: { firstMessageDelayMs: 50, editIntervalMs: 5000 }';
    await h.writeConfig([{ id: 'stop', token: TOKEN, yaml }], { storageUrl: 'sqlite://data/botfleet.sqlite' });
    const first = await h.start();
    h.openai.enqueueReply({ content: 'one **two** three four five six', stallAfterChunks: 3 });
    const update = h.telegram.sendText(TOKEN, { chatId: 7, userId: 7, text: 'go' });
    const [sent] = await h.telegram.waitForSent(1, { token: TOKEN });
    expect(sent?.text).toBe('one two three');
    const replay = delivered(h, update);
    const started = Date.now();
    await first.fleet.stop(300);
    // Deadline 300 ms plus the 2 s grace at most (and never the 5 s edit floor).
    expect(Date.now() - started).toBeLessThan(2300 + 500);
    expect(h.telegram.message(TOKEN, 7, sent?.messageId ?? 0)?.text).toBe(`one two three\n\n${CUT_OFF}`);
    expect(h.logs().find((l) => String(l.msg).startsWith('model request aborted by shutdown'))?.msg).toContain(
      'cut-off note',
    );
    const since = h.telegram.nextSeq();
    await expect(h.telegram.waitForCall(() => true, { since, timeoutMs: 1500 })).rejects.toThrow(/timed out/);

    // After a restart, Telegram hands the update over again: it was answered (cut off), not again.
    await h.start();
    h.telegram.sendUpdate(TOKEN, replay);
    h.telegram.sendText(TOKEN, { chatId: 7, userId: 7, text: 'final' });
    await waitFor(() => h.telegram.sentMessages(TOKEN).some((m) => m.text === 'echo: final'), { what: 'echo: final' });
    expect(h.telegram.sentMessages(TOKEN, 7).map((m) => m.text)).toEqual(['one two three', 'echo: final']);
    expect(transcript(h.openai.lastRequest()?.body).slice(1)).toEqual(['user: final']);
  });
});
