/**
 * One `botfleet run` per SQLite file: a second process on the same store is refused with
 * exit 2 and a message naming the first (pid, host, start time); a lock left by a dead
 * process is taken over; a clean stop removes it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockSqliteStore, StoreInUseError } from '../src/memory/store-lock.js';
import { CLI_PATH, runCli } from './support/cli.js';
import { createFleetHarness, type FleetHarness } from './support/fleet-harness.js';
import { waitFor } from './support/wait-for.js';

const TOKEN = '8401:lock-token';

describe('a second botfleet run on one SQLite store', () => {
  let h: FleetHarness;
  let first: ChildProcess | undefined;
  beforeEach(async () => {
    h = await createFleetHarness();
    await h.writeConfig([{ id: 'locked', token: TOKEN }]);
  });
  afterEach(async () => {
    first?.kill('SIGKILL');
    await h.close();
  });

  it('is refused with exit 2, naming the first process; the lock goes with a clean stop', async () => {
    first = spawn(process.execPath, [CLI_PATH, 'run', '--config', 'bots.yaml'], {
      cwd: h.dir,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    first.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => first?.on('exit', resolve));
    await waitFor(() => output.includes('bot is polling'), { timeoutMs: 10_000, what: 'the first process to poll' });

    const second = await runCli(['run', '--config', 'bots.yaml'], { cwd: h.dir });

    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`pid ${first.pid} on ${hostname()}, started 20`);
    expect(second.stderr).toContain('botfleet.sqlite is in use by another botfleet');
    // The refused process never polled: one poller only, so no 409 from ourselves.
    expect(h.telegram.calls(TOKEN, 'getUpdates').filter((call) => call.outcome?.status === 409)).toEqual([]);
    const lock = join(h.dir, 'data', 'botfleet.sqlite.lock');
    expect(existsSync(lock)).toBe(true);
    first.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(lock)).toBe(false);
  }, 30_000);
});

describe('lockSqliteStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'botfleet-lock-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('takes over a lock whose process is gone, and refuses one whose process lives', async () => {
    const path = join(dir, 'store.sqlite');
    // A pid that cannot be alive (above the kernel's pid_max).
    await writeFile(`${path}.lock`, JSON.stringify({ pid: 2 ** 30, host: hostname(), started: 'then' }));
    const lock = await lockSqliteStore(path, process.pid);
    // The parent of this test process is alive, on this host: refused.
    const refused = await lockSqliteStore(path, process.ppid).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(StoreInUseError);
    expect((refused as StoreInUseError).holder).toMatchObject({ pid: process.pid, host: hostname() });
    await lock.release();
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it('lets exactly one of many processes starting at once take the lock, fresh or stale', async () => {
    // Live pids on this host, one per contender (lockSqliteStore judges a holder by its pid).
    const sleepers = Array.from({ length: 8 }, () => spawn('sleep', ['30'], { stdio: 'ignore' }));
    try {
      const pids = sleepers.map((child) => child.pid as number);
      for (const [round, start] of [
        ['fresh', async () => undefined],
        [
          'stale',
          async (path: string) =>
            writeFile(`${path}.lock`, JSON.stringify({ pid: 2 ** 30, host: hostname(), started: 'then' })),
        ],
      ] as const) {
        // Many rounds, the contenders a little apart: each step of one may fall between two of another.
        for (let race = 0; race < 25; race++) {
          const name = `race-${round}-${race}.sqlite`;
          const path = join(dir, name);
          await start(path);
          const outcomes = await Promise.allSettled(
            pids.map(async (pid) => {
              await new Promise((resolve) => setTimeout(resolve, Math.random() * 4));
              return lockSqliteStore(path, pid);
            }),
          );
          const won = outcomes.filter((o) => o.status === 'fulfilled');
          expect(won, `${round} race ${race}: winners`).toHaveLength(1);
          for (const o of outcomes)
            if (o.status === 'rejected') expect(o.reason, round).toBeInstanceOf(StoreInUseError);
          // No file of ours is left beside the store but the lock itself.
          const left = (await readdir(dir)).filter((file) => file.startsWith(`${name}.lock`));
          expect(left, round).toEqual([`${name}.lock`]);
        }
      }
    } finally {
      for (const child of sleepers) child.kill('SIGKILL');
    }
  });
});
