/** Per-key locks: FIFO per key, independence across keys, release on failure, no leftovers. */
import { describe, expect, it } from 'vitest';
import { createKeyedMutex } from '../../src/memory/keyed-mutex.js';

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
    expect(mutex.activeKeys()).toBe(1);
    blocker.open();
    await slow;
  });

  it('releases the lock when a task throws, and forgets idle keys', async () => {
    const mutex = createKeyedMutex();
    const failed = mutex.run('k', async () => {
      throw new Error('boom');
    });
    const next = mutex.run('k', async () => 42);
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe(42);
    expect(mutex.activeKeys()).toBe(0);
  });
});
