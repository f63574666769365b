/** Opening the store: fast, clear start-up errors with the URL masked; SQLite folder creation;
 * closing that waits for work in flight. */
import { once } from 'node:events';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openConversationStore } from '../../src/memory/open-store.js';
import { StoreError } from '../../src/memory/store-error.js';
import { captureLog } from '../support/capture-log.js';
import { freePort } from '../support/redis.js';
import { turn } from './store-contract.js';

async function openFailure(
  url: string,
  extra: { connectTimeoutMs?: number } = {},
): Promise<{ error: StoreError; elapsedMs: number; logText: string }> {
  const log = captureLog();
  const started = Date.now();
  const caught = await openConversationStore({
    storage: { url, namespace: 'botfleet' },
    logger: log.logger,
    ...extra,
  }).then(
    async (store) => {
      await store.close();
      return undefined;
    },
    (error: unknown) => error,
  );
  if (!(caught instanceof StoreError)) throw new Error(`expected a StoreError, got ${String(caught)}`);
  return { error: caught, elapsedMs: Date.now() - started, logText: log.text() };
}

describe('openConversationStore', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'botfleet-open-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('fails fast when Redis is not there, naming the backend and the URL without its password', async () => {
    const port = await freePort();
    const { error, elapsedMs, logText } = await openFailure(`redis://botfleet:s3cr3t-pw@127.0.0.1:${port}/0`);
    expect(error.message).toBe(
      `storage unreachable: redis://botfleet:****@127.0.0.1:${port}/0 (connection refused); check storage.url and that Redis is running`,
    );
    expect(error).toMatchObject({
      kind: 'storage',
      backend: 'redis',
      operation: 'open',
      url: `redis://botfleet:****@127.0.0.1:${port}/0`,
    });
    expect(`${error.message} ${String((error.cause as Error).message)} ${logText}`).not.toContain('s3cr3t');
    expect(elapsedMs).toBeLessThan(2000);
  });

  it('gives up on a server that accepts connections but never answers, after connectTimeoutMs', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const address = silent.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const { error, elapsedMs } = await openFailure(`redis://127.0.0.1:${port}`, { connectTimeoutMs: 300 });
      expect(error.message).toBe(
        `storage unreachable: redis://127.0.0.1:${port} (no answer within 300 ms); check storage.url and that Redis is running`,
      );
      expect(elapsedMs).toBeLessThan(1500);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('creates the folder of a SQLite file', async () => {
    const file = join(dir, 'not', 'there', 'yet', 'botfleet.sqlite');
    const store = await openConversationStore({
      storage: { url: `sqlite://${file}`, namespace: 'botfleet' },
      logger: captureLog().logger,
    });
    try {
      expect(store.description).toBe(`sqlite://${file}`);
      expect((await stat(file)).isFile()).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('reports a SQLite path it cannot open as a file', async () => {
    const { error } = await openFailure(`sqlite://${dir}`);
    expect(error).toMatchObject({ backend: 'sqlite', operation: 'open' });
    expect(error.message).toMatch(
      new RegExp(`^storage unreachable: sqlite://${dir} \\(.+\\); check storage.url and that its folder is writable$`),
    );
  });

  it('refuses an unsupported scheme without printing its password', async () => {
    const { error } = await openFailure('ftp://me:pa55word@files.example/x');
    expect(error).toMatchObject({ backend: 'unknown', operation: 'open' });
    expect(error.message).toBe(
      'storage.url ftp://me:****@files.example/x is not supported; use sqlite://PATH, redis://…, rediss://… or memory://',
    );
  });

  it('waits for appends in flight on close, then refuses new calls', async () => {
    const url = `sqlite://${join(dir, 'close.sqlite')}`;
    const key = { botId: 'helper', chatId: 1 };
    const store = await openConversationStore({ storage: { url, namespace: 'botfleet' }, logger: captureLog().logger });
    const appends = [1, 2, 3].map((n) => store.append(key, turn(n), { maxTurns: 5 }));
    await Promise.all([store.close(), store.close()]);
    await Promise.all(appends);
    const reopened = await openConversationStore({
      storage: { url, namespace: 'botfleet' },
      logger: captureLog().logger,
    });
    try {
      expect(await reopened.load(key)).toEqual([turn(1), turn(2), turn(3)]);
    } finally {
      await reopened.close();
    }
  });
});
