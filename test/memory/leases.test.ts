/**
 * The lease primitives on the real Redis (own namespace): one holder at a time, renewal and
 * release only by the holder, expiry, the replica list, offsets that only go up. And a replica
 * cut off from Redis (a private redis-server, frozen) stops polling its bot before its lease
 * could expire, so a second replica never polls the same token.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LeaseStore, leaseKey, openLeases } from '../../src/memory/leases.js';
import { createFleetHarness, type FleetHarness } from '../support/fleet-harness.js';
import { deleteRedisNamespace, type PrivateRedis, privateRedis, SHARED_REDIS_URL } from '../support/redis.js';
import { waitFor } from '../support/wait-for.js';

const open = (namespace: string, owner: string, url = SHARED_REDIS_URL): Promise<LeaseStore> =>
  openLeases({
    url,
    namespace,
    owner,
    connectTimeoutMs: 2000,
    operationTimeoutMs: 1000,
    reconnectMaxDelayMs: 200,
  });

describe('lease primitives', () => {
  const namespace = `test-leases-${randomUUID().slice(0, 8)}`;
  let a: LeaseStore;
  let b: LeaseStore;
  beforeEach(async () => {
    [a, b] = await Promise.all([open(namespace, 'a'), open(namespace, 'b')]);
  });
  afterEach(async () => {
    await Promise.all([a.close(), b.close()]);
    await deleteRedisNamespace(SHARED_REDIS_URL, namespace);
  });

  it('lets one replica hold a lease; only the holder renews or releases it', async () => {
    expect(await a.acquire('chef', 5000)).toBe(true);
    expect(await b.acquire('chef', 5000)).toBe(false);
    expect(await b.renew(['chef'], 5000)).toEqual(new Set());
    await b.release(['chef']);
    expect(await a.holders(['chef', 'other'])).toEqual(
      new Map([
        ['chef', 'a'],
        ['other', undefined],
      ]),
    );
    expect(await a.renew(['chef', 'other'], 5000)).toEqual(new Set(['chef']));
    await a.release(['chef']);
    expect(await b.acquire('chef', 5000)).toBe(true);
  });

  it('lets a lease expire when it is not renewed', async () => {
    expect(await a.acquire('chef', 200)).toBe(true);
    await waitFor(async () => b.acquire('chef', 5000), { timeoutMs: 3000, what: 'the lease to expire' });
    expect(await a.renew(['chef'], 5000)).toEqual(new Set());
    expect(leaseKey(namespace, 'chef')).toBe(`${namespace}:fleet:lease:chef`);
  });

  it('lists the live replicas and forgets one that withdrew or stopped announcing', async () => {
    await a.announce(5000);
    expect(await b.announce(200)).toEqual(['a', 'b']);
    await waitFor(async () => (await a.announce(5000)).join() === 'a', { timeoutMs: 3000, what: 'b to expire' });
    await a.withdraw();
    expect(await b.announce(5000)).toEqual(['b']);
  });

  it('stores offsets per bot and Telegram bot, never lowering one', async () => {
    expect(await a.readOffset('chef', '111')).toBe(0);
    await a.writeOffset('chef', '111', 50);
    await b.writeOffset('chef', '111', 40);
    expect(await b.readOffset('chef', '111')).toBe(50);
    expect(await b.readOffset('chef', '222')).toBe(0);
  });
});

describe('a replica cut off from Redis', () => {
  let h: FleetHarness;
  let redis: PrivateRedis;
  beforeEach(async () => {
    h = await createFleetHarness();
    redis = await privateRedis();
    await redis.start();
  });
  afterEach(async () => {
    redis.resume();
    await h.close();
    await redis.kill();
  });

  it('stops polling its bot before the lease expires (another replica could take it)', async () => {
    const token = '8701:cut-off-token';
    await h.writeConfig([{ id: 'cut', token }], { storageUrl: redis.url });
    const { fleet } = await h.start();
    expect(fleet.bots.get('cut')?.state()).toBe('polling');
    // A second replica, idle (the one bot is held): the first is no longer alone once both
    // announced (every second).
    const second = await h.start();
    expect(second.fleet.bots.size).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    redis.pause();
    const pausedAt = performance.now();
    await waitFor(() => !fleet.bots.has('cut'), { timeoutMs: 15_000, what: 'the bot to stop polling' });
    // By the safety check (4 s without a renewal), not by finding the lease taken: the 6 s lease
    // could not have expired yet.
    expect(h.logs().some((line) => line.msg.startsWith('lease lost (not renewed in time)'))).toBe(true);
    // A safety bound, not a speed goal: the last renewal was sent before the pause, so a bot
    // still polling 6 s (the lease's TTL) after it may overlap another replica's poller. Checked
    // on the safety check's own timer: a tick stuck on the frozen Redis (renewal, announce and
    // holders, 3 s each) once kept the bot polling about 8 s.
    expect(performance.now() - pausedAt).toBeLessThan(6_000);
  }, 30_000);

  it('keeps its bot polling through a Redis outage when it is the only replica, telling users', async () => {
    const token = '8702:alone-token';
    await h.writeConfig([{ id: 'alone', token }], { storageUrl: redis.url });
    const { fleet } = await h.start();
    expect(fleet.bots.get('alone')?.state()).toBe('polling');
    await redis.kill();
    await waitFor(() => h.logs().some((l) => l.msg.startsWith('lease not renewed in time (Redis does not answer)')), {
      timeoutMs: 15_000,
      what: 'the lease to go unrenewed',
    });
    expect(fleet.bots.get('alone')?.state()).toBe('polling');
    // The user is told storage is down, not left without an answer.
    h.telegram.sendText(token, { chatId: 5, userId: 5, text: 'are you there?' });
    const [told] = await h.telegram.waitForSent(1, { token, timeoutMs: 10_000 });
    expect(told?.text).toBe('Sorry, my memory is unavailable right now. Please try again in a moment.');
    await redis.start();
    await waitFor(() => h.logs().some((l) => l.msg === 'lease taken again after Redis returned'), {
      timeoutMs: 20_000,
      what: 'the lease taken again',
    });
    expect(h.logs().some((l) => l.msg.startsWith('lease lost'))).toBe(false);
    expect(fleet.bots.get('alone')?.state()).toBe('polling');
  }, 60_000);
});
