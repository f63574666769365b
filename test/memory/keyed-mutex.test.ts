/** Per-key locks: FIFO per key, independence across keys, release on failure, order across idle. */
import { describe, expect, it } from 'vitest';
import { createKeyedMutex } from '../../src/memory/keyed-mutex.js';
import { waitFor } from '../support/wait-for.js';

/** A promise and the function that resolves it. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('createKeyedMutex', () => {
  it('runs tasks for one key one at a time, in call order', async () => {
    const mutex = createKeyedMutex();
    const events: string[] = [];
    const first = gate();
    const a = mutex.run('k', async () => {
      events.push('a start');
      await first.promise;
      events.push('a end');
    });
    const b = mutex.run('k', async () => void events.push('b'));
    const c = mutex.run('k', async () => void events.push('c'));
    await Promise.resolve();
    expect(events).toEqual(['a start']);
    first.open();
    await Promise.all([a, b, c]);
    expect(events).toEqual(['a start', 'a end', 'b', 'c']);
  });

  it('never makes a key wait for another key', async () => {
    const mutex = createKeyedMutex();
    const blocker = gate();
    const slow = mutex.run('chat-1', () => blocker.promise);
    await expect(mutex.run('chat-2', async () => 'done')).resolves.toBe('done');
    blocker.open();
    await slow;
  });

  it('releases the lock when a task throws', async () => {
    const mutex = createKeyedMutex();
    const failed = mutex.run('k', async () => {
      throw new Error('boom');
    });
    const next = mutex.run('k', async () => 42);
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe(42);
  });

  it('keeps the order when a key gets work while its earlier tasks finish, and after it went idle', async () => {
    const mutex = createKeyedMutex();
    const events: string[] = [];
    const [first, second] = [gate(), gate()];
    const a = mutex.run('k', () => first.promise);
    const b = mutex.run('k', async () => {
      events.push('b start');
      await second.promise;
      events.push('b end');
    });
    first.open();
    await a;
    await waitFor(() => events.includes('b start'));
    // a has finished while b runs: c must still queue behind b.
    const c = mutex.run('k', async () => void events.push('c'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual(['b start']);
    second.open();
    await Promise.all([b, c]);
    expect(events).toEqual(['b start', 'b end', 'c']);
    // Idle now: the key works as if new.
    await expect(mutex.run('k', async () => 'again')).resolves.toBe('again');
  });
});
