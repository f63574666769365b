/**
 * Two fleets in this process on the shared Redis (own namespace) behave as two replicas: the
 * first alone takes every bot at start-up, the second gets its fair share, /readyz and the
 * metrics show which bots each holds (the others `standby`, ready all the same), and a reload
 * puts an added bot on exactly one replica and releases a removed one.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';
import { readyz } from './ops/ops-http.js';
import { createFleetHarness, type FleetHarness } from './support/fleet-harness.js';
import { freePort, SHARED_REDIS_URL } from './support/redis.js';
import { waitFor } from './support/wait-for.js';

const bot = (i: number) => ({ id: `rf${i}`, token: `${8600 + i}:replica-fleet-${i}` });

describe('replicas in one process', () => {
  let h: FleetHarness;
  let port: number;
  beforeEach(async () => {
    h = await createFleetHarness();
    port = await freePort();
  });
  afterEach(async () => {
    await h.close();
  });

  it('share the bots, show them in /readyz and the metrics, and follow a reload', async () => {
    await h.writeConfig([bot(1), bot(2), bot(3), bot(4)], {
      storageUrl: SHARED_REDIS_URL,
      server: `{ port: ${port} }`,
    });
    const first = await h.start();
    expect([...first.fleet.bots.keys()].sort()).toEqual(['rf1', 'rf2', 'rf3', 'rf4']);

    await h.writeConfig([bot(1), bot(2), bot(3), bot(4)], { storageUrl: SHARED_REDIS_URL, server: '{ port: 0 }' });
    const second = await h.start();
    const both = [first.fleet, second.fleet];
    await waitFor(() => both.every((fleet) => fleet.bots.size === 2), { timeoutMs: 20_000, what: '2 bots each' });
    const held = (i: number) => [...(both[i]?.bots.keys() ?? [])];
    expect([...held(0), ...held(1)].sort()).toEqual(['rf1', 'rf2', 'rf3', 'rf4']);

    const ready = await waitFor(
      async () => {
        const answer = await readyz(`http://127.0.0.1:${port}`);
        // The holders shown are as last seen (refreshed every second): wait for the hand-over.
        const seen = held(1).every((id) => answer.body.bots[id]?.reason === `held by ${second.fleet.replicaId}`);
        return seen ? answer : undefined;
      },
      { timeoutMs: 5000, what: "readyz of the first replica naming the second's bots" },
    );
    expect(ready.status).toBe(200);
    for (const id of held(1))
      expect(ready.body.bots[id]).toEqual({ state: 'standby', reason: `held by ${second.fleet.replicaId}` });
    for (const id of held(0)) expect(ready.body.bots[id]).toEqual({ state: 'polling' });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/^botfleet_bots_held 2$/m);

    // A reload: rf5 added, rf1 removed, on both replicas (each reads the file on its own).
    await h.writeConfig([bot(2), bot(3), bot(4), bot(5)], { storageUrl: SHARED_REDIS_URL, server: '{ port: 0 }' });
    const next = await loadConfig({ file: 'bots.yaml', cwd: h.dir, env: {} });
    await Promise.all(both.map((fleet) => fleet.apply(next)));
    await waitFor(() => both.filter((fleet) => fleet.bots.has('rf5')).length === 1, {
      timeoutMs: 10_000,
      what: 'rf5 on one replica',
    });
    await waitFor(() => both.every((fleet) => !fleet.bots.has('rf1') && fleet.bots.size === 2), {
      timeoutMs: 10_000,
      what: 'rf1 released, 2 bots each',
    });
    expect(both.filter((fleet) => fleet.bots.has('rf5'))).toHaveLength(1);
    for (const b of [bot(1), bot(2), bot(3), bot(4), bot(5)])
      expect(h.telegram.calls(b.token, 'getUpdates').filter((call) => call.outcome?.status === 409)).toEqual([]);
  }, 60_000);
});
