/**
 * Redis helpers for tests: the shared server at 127.0.0.1:6379 (never stopped by a test), and
 * private `redis-server` processes a test may kill and restart on the same port.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createConnection } from 'node:net';
import { createClient } from '@keyv/redis';
import { freePort } from '../../harness/redis.js';
import { waitFor } from './wait-for.js';

/** The shared Redis every test may use (with its own key prefix). */
export const SHARED_REDIS_URL = 'redis://127.0.0.1:6379';

/** A TCP port on 127.0.0.1 that nothing listens on right now (shared with the bench and faults). */
export { freePort };

/** Whether a Redis server answers PING on `port` within `timeoutMs`. */
export function answersPing(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.on('error', () => finish(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => finish(data.toString().startsWith('+PONG')));
  });
}

/** A private redis-server (no persistence) on a fixed port. */
export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  /** Starts the server (again) and resolves once it answers PING. */
  start(): Promise<void>;
  /** Kills the server by pid (SIGKILL) and resolves once it has exited. */
  kill(): Promise<void>;
  /** Freezes (SIGSTOP) or thaws (SIGCONT) the server: it keeps its socket but stops answering. */
  pause(): void;
  resume(): void;
}

/** A PrivateRedis on a free port, not started yet. Kill it in afterEach/afterAll. */
export async function privateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const signal = (name: NodeJS.Signals): void => {
    if (child?.pid === undefined) throw new Error('the private redis-server is not running');
    process.kill(child.pid, name);
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        { stdio: 'ignore' },
      );
      const started = child;
      await waitFor(async () => started.exitCode === null && (await answersPing(port)), {
        timeoutMs: 10_000,
        what: `redis-server on port ${port}`,
      });
    },
    async kill() {
      const running = child;
      if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
      const exited = once(running, 'exit');
      if (running.pid !== undefined) process.kill(running.pid, 'SIGKILL');
      await exited;
    },
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
  };
}

/** Deletes every key under `namespace:` on the Redis at `url` (test clean-up). */
export async function deleteRedisNamespace(url: string, namespace: string): Promise<void> {
  const client = createClient({ url });
  await client.connect();
  try {
    const keys = await client.keys(`${namespace}:*`);
    if (keys.length > 0) await client.del(keys);
  } finally {
    await client.close();
  }
}
