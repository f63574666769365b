/**
 * "Answered at most once" with `queue: collect`: every update of a joined turn is recorded as
 * answered (the stored turn carries the last, the others are marked), so a batch Telegram
 * redelivers after a restart gets nothing again, whether it was answered or apologised for;
 * and a redelivered message already answered is left out of a join. On SQLite and on Redis.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Update } from 'grammy/types';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFleetHarness, type FleetHarness, transcript } from '../support/fleet-harness.js';
import { waitFor } from '../support/wait-for.js';

const TOKEN = '7401:collect-once-token';
const USER = 7410;
const APOLOGY = 'Sorry, I could not get an answer right now. Please try again in a moment.';

/** The update as the fake delivered it (from the recorded getUpdates answers). */
function delivered(h: FleetHarness, updateId: number): Update {
  for (const call of h.telegram.calls(TOKEN, 'getUpdates')) {
    const result = (call.outcome?.response as { result?: Update[] } | undefined)?.result ?? [];
    const update = result.find((u) => u.update_id === updateId);
    if (update !== undefined) return update;
  }
  throw new Error(`update ${updateId} was never delivered`);
}

describe.each([
  ['SQLite', 'sqlite://data/botfleet.sqlite'],
  ['Redis', 'redis://127.0.0.1:6379/0'],
])('queue: collect answers at most once on %s', (_name, storageUrl) => {
  let h: FleetHarness;
  beforeEach(async () => {
    h = await createFleetHarness();
  });
  afterEach(async () => h.close());

  const send = (text: string): number => h.telegram.sendText(TOKEN, { chatId: USER, userId: USER, text });
  const texts = (): string[] => h.telegram.sentMessages(TOKEN, USER).map((m) => m.text);
  const userMessages = (): string[] => h.openai.requests().map((r) => transcript(r.body).at(-1) ?? '');

  /** Sends `one`, then `two` and `three` 100 ms apart while the (1 s) model answers `one`. */
  async function burst(): Promise<number[]> {
    h.openai.setLatency(1000);
    const ids = [send('one')];
    await h.openai.waitForRequest();
    for (const text of ['two', 'three']) {
      await delay(100);
      ids.push(send(text));
    }
    return ids;
  }

  /** Restarts the fleet, redelivers `replays`, then sends `final` and waits for its answer. */
  async function restartAndRedeliver(stop: () => Promise<void>, replays: readonly Update[]): Promise<void> {
    await stop();
    h.openai.setLatency(0);
    await h.start();
    for (const update of replays) h.telegram.sendUpdate(TOKEN, update);
    send('final');
    await waitFor(() => texts().includes('echo: final'), { what: 'echo: final' });
  }

  it('answers nothing of a joined batch again when a restart redelivers it', async () => {
    await h.writeConfig([{ id: 'once', token: TOKEN, yaml: 'queue: collect' }], { storageUrl });
    const first = await h.start();
    const ids = await burst();
    await h.telegram.waitForSent(2, { token: TOKEN, timeoutMs: 10_000 });
    await waitFor(() => h.logs().filter((line) => line.msg === 'turn stored').length === 2, {
      what: 'two turns stored',
    });
    const replays = ids.map((id) => delivered(h, id));

    await restartAndRedeliver(() => first.fleet.stop(2000), replays);
    expect(texts()).toEqual(['echo: one', 'echo: two\nthree', 'echo: final']);
    expect(userMessages()).toEqual(['user: one', 'user: two\nthree', 'user: final']);
    expect(transcript(h.openai.lastRequest()?.body).slice(1)).toEqual([
      'user: one',
      'assistant: echo: one',
      'user: two\nthree',
      'assistant: echo: two\nthree',
      'user: final',
    ]);
    // Each redelivered update is either skipped as answered or never fetched again: the stored
    // update offset (the journal, on every store) is already past it.
    const skipped = h.logs().filter((line) => line.msg.includes('already answered'));
    expect(skipped.every((line) => ids.includes(line.update as number))).toBe(true);
  });

  it('records the apology for a joined batch as the answer to each of its messages', async () => {
    await h.writeConfig([{ id: 'once', token: TOKEN, yaml: 'queue: collect' }], { storageUrl });
    const first = await h.start();
    const ids = await burst();
    h.openai.failNext({ status: 500 }); // the joined call: `one` is already being answered
    await h.telegram.waitForSent(2, { token: TOKEN, timeoutMs: 10_000 });
    expect(texts()).toEqual(['echo: one', APOLOGY]);
    const replays = ids.map((id) => delivered(h, id));

    await restartAndRedeliver(() => first.fleet.stop(2000), replays);
    expect(texts()).toEqual(['echo: one', APOLOGY, 'echo: final']);
    expect(userMessages()).toEqual(['user: one', 'user: two\nthree', 'user: final']);
  });

  it('leaves a redelivered message that was already answered out of a join', async () => {
    await h.writeConfig([{ id: 'once', token: TOKEN, yaml: 'queue: collect' }], { storageUrl });
    const first = await h.start();
    const answered = send('a');
    await h.telegram.waitForSent(1, { token: TOKEN });
    const replay = delivered(h, answered);
    await first.fleet.stop(2000);

    await h.start();
    h.openai.setLatency(1000);
    send('b');
    await h.openai.waitForRequest((request) => transcript(request.body).at(-1) === 'user: b');
    // `a` again and `c` both wait behind `b`: they would be joined, but `a` was answered.
    // (Redelivered into the poll after `b`'s: an update below a poll's offset is gone, as at
    // Telegram, and that poll goes out once `b`'s batch is journaled.)
    await waitFor(() => h.telegram.isPolling(TOKEN), { what: 'the poll after b' });
    h.telegram.sendUpdate(TOKEN, replay);
    await delay(100);
    send('c');
    await waitFor(() => texts().includes('echo: c'), { what: 'echo: c', timeoutMs: 10_000 });
    expect(texts()).toEqual(['echo: a', 'echo: b', 'echo: c']);
    expect(userMessages()).toEqual(['user: a', 'user: b', 'user: c']);
    // The restarted fleet also replays its journal, which may skip `a` once more.
    const skipped = h.logs().filter((line) => line.msg.includes('already answered'));
    expect([...new Set(skipped.map((line) => line.update))]).toEqual([answered]);
  });
});
