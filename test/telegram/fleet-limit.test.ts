/**
 * The fleet limit's own bookkeeping (src/telegram/fleet-limit.ts): lanes take turns for runs,
 * a poll waits while the fleet's waiting updates are reached and asks for an even share, and a
 * lane that leaves (a bot stopped or removed by a reload) gives back all it counted.
 */
import { describe, expect, it } from 'vitest';
import { createFleetLimit, type FleetLane } from '../../src/telegram/fleet-limit.js';

/** A lane that records its grants and starts a run with each (like a bot with work waiting). */
function busyLane(lane: FleetLane, name: string, log: string[]): FleetLane {
  lane.onGrant = () => log.push(name);
  return lane;
}

describe('fleet limit', () => {
  it('serves lanes waiting for a run in turn, one run each, and never more than the cap', () => {
    const fleet = createFleetLimit(() => ({ maxRunning: 2, maxWaiting: 10 }));
    const granted: string[] = [];
    const a = busyLane(fleet.join(), 'a', granted);
    const b = busyLane(fleet.join(), 'b', granted);
    const c = busyLane(fleet.join(), 'c', granted);
    expect([a.tryRun(), a.tryRun(), a.tryRun()]).toEqual([true, true, false]); // a is now in line
    expect([b.tryRun(), c.tryRun()]).toEqual([false, false]);
    expect(fleet.counts().running).toBe(2);
    // Each run that ends goes to the next lane in line; a lane asking again goes to the back.
    a.runEnded();
    expect(a.tryRun()).toBe(false);
    a.runEnded();
    b.runEnded();
    c.runEnded();
    expect(granted).toEqual(['a', 'b', 'c', 'a']);
    expect(fleet.counts().running).toBe(2);
  });

  it('holds polls while the fleet has its waiting updates and asks for an even share after', async () => {
    const fleet = createFleetLimit(() => ({ maxRunning: 1, maxWaiting: 6 }));
    const [a, b, c] = [fleet.join(), fleet.join(), fleet.join()];
    expect(await a.fetchRoom()).toBe(2); // 6 over 3 bots
    a.waiting(5);
    expect(await b.fetchRoom()).toBe(1); // only 1 left
    b.waiting(1);
    let room: number | undefined;
    const poll = c.fetchRoom().then((n) => (room = n));
    const stopped = new AbortController();
    const aborted = b.fetchRoom(stopped.signal);
    await Promise.resolve();
    expect(room).toBeUndefined();
    stopped.abort(new Error('runner stopped'));
    await expect(aborted).rejects.toThrow('runner stopped');
    a.waiting(-3);
    await poll;
    expect(room).toBe(2);
  });

  it('gives back what a leaving lane still counted, and serves the others', () => {
    const fleet = createFleetLimit(() => ({ maxRunning: 1, maxWaiting: 4 }));
    const granted: string[] = [];
    const gone = busyLane(fleet.join(), 'gone', granted);
    const stays = busyLane(fleet.join(), 'stays', granted);
    expect(gone.tryRun()).toBe(true);
    gone.waiting(4);
    expect(stays.tryRun()).toBe(false);
    gone.leave();
    expect(granted).toEqual(['stays']);
    expect(fleet.counts()).toEqual({ running: 1, waiting: 0, lanes: 1 });
    gone.runEnded(); // its run ending after it left changes nothing
    gone.waiting(-4);
    expect(fleet.counts()).toEqual({ running: 1, waiting: 0, lanes: 1 });
    stays.runEnded();
    expect(fleet.counts()).toEqual({ running: 0, waiting: 0, lanes: 1 });
  });
});
