/** The update journal and offset over a real SQLite file (update-journal.ts): the same keys and
 * limits as the Redis leases, and overlapping read-modify-writes that lose nothing. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseStorageKey } from '../../src/memory/history.js';
import { journalKey, offsetKey } from '../../src/memory/leases.js';
import { type ConversationStoreHandle, openStoreWithKeyv } from '../../src/memory/open-store.js';
import { createKeyvUpdateJournal } from '../../src/memory/update-journal.js';
import { captureLog } from '../support/capture-log.js';
import { waitFor } from '../support/wait-for.js';

describe('update journal on SQLite', () => {
  let dir: string;
  let store: ConversationStoreHandle;
  let keyv: Awaited<ReturnType<typeof openStoreWithKeyv>>['keyv'];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'botfleet-journal-'));
    const storage = { url: `sqlite://${join(dir, 'data', 'botfleet.sqlite')}`, namespace: 'ns' };
    ({ store, keyv } = await openStoreWithKeyv({ storage, logger: captureLog().logger }));
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps every entry of overlapping appends, the newest `max` of them, oldest first', async () => {
    const j = store.updateJournal;
    await Promise.all(Array.from({ length: 30 }, (_, i) => j.journal('b', '42', [`u${i}`], 60_000, 100)));
    expect(await j.readJournal('b', '42')).toEqual(Array.from({ length: 30 }, (_, i) => `u${i}`));
    await j.journal('b', '42', ['x', 'y'], 60_000, 3);
    expect(await j.readJournal('b', '42')).toEqual(['u29', 'x', 'y']);
    expect(await j.readJournal('b', '43')).toEqual([]);
  });

  it('raises the offset only, even when raises overlap', async () => {
    const j = store.updateJournal;
    expect(await j.readOffset('b', '42')).toBe(0);
    await Promise.all([7, 3, 9, 5].map((next) => j.writeOffset('b', '42', next)));
    expect(await j.readOffset('b', '42')).toBe(9);
    await j.writeOffset('b', '42', 4);
    expect(await j.readOffset('b', '42')).toBe(9);
  });

  it('lets the journal expire ttl after the last append', async () => {
    const j = store.updateJournal;
    await j.journal('b', '42', ['u1'], 50, 100);
    await waitFor(async () => (await j.readJournal('b', '42')).length === 0, {
      timeoutMs: 5000,
      what: 'the journal expired',
    });
  });

  it('uses the Redis keys, which are never taken for a conversation', async () => {
    await store.updateJournal.journal('b', '42', ['u1'], 60_000, 100);
    await store.updateJournal.writeOffset('b', '42', 8);
    expect(await keyv.get(offsetKey('ns', 'b', '42'))).toBe('8');
    expect(JSON.parse((await keyv.get(journalKey('ns', 'b', '42'))) ?? '{}')).toMatchObject({ v: 1, updates: ['u1'] });
    expect(parseStorageKey('ns', offsetKey('ns', 'b', '42'))).toBeUndefined();
    expect(parseStorageKey('ns', journalKey('ns', 'b', '42'))).toBeUndefined();
  });

  it('owning the file, reads each key once: every later append or raise starts from what it wrote', async () => {
    const gets: string[] = [];
    let failSets = false;
    const counted = {
      get: (key: string) => {
        gets.push(key);
        return keyv.get(key) as Promise<string | undefined>;
      },
      set: async (key: string, value: string) => {
        if (failSets) throw new Error('disk full');
        return keyv.set(key, value);
      },
    };
    const deps = {
      keyv: counted,
      namespace: 'ns',
      backend: 'sqlite' as const,
      url: 'sqlite://x',
      operationTimeoutMs: 2000,
    };
    const j = createKeyvUpdateJournal({ ...deps, owned: true });
    for (let i = 0; i < 5; i++) {
      await j.journal('b', '42', [`{"update_id":${i}}`], 60_000, 100, [i - 1]);
      await j.writeOffset('b', '42', i + 1);
    }
    // One read of each key, the first time; what is stored is what was written.
    expect(gets).toEqual([journalKey('ns', 'b', '42'), offsetKey('ns', 'b', '42')]);
    expect(await store.updateJournal.readJournal('b', '42')).toEqual(['{"update_id":4}']);
    expect(await store.updateJournal.readOffset('b', '42')).toBe(5);
    // A write that failed may still land: the next one reads the store again.
    failSets = true;
    await expect(j.journal('b', '42', ['{"update_id":5}'], 60_000, 100)).rejects.toThrow();
    failSets = false;
    gets.length = 0;
    await j.journal('b', '42', ['{"update_id":6}'], 60_000, 100);
    expect(gets).toEqual([journalKey('ns', 'b', '42')]);
    expect(await j.readJournal('b', '42')).toEqual(['{"update_id":4}', '{"update_id":6}']);
    // Shared storage (Redis) is read every time.
    gets.length = 0;
    const shared = createKeyvUpdateJournal(deps);
    await shared.journal('b', '43', ['a'], 60_000, 100);
    await shared.journal('b', '43', ['b'], 60_000, 100);
    expect(gets).toHaveLength(2);
  });
});
