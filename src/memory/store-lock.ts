/**
 * One `botfleet run` per SQLite file: a lock file beside it (`PATH.lock`), created exclusively,
 * holding who took it (pid, host, start time), touched every STORE_LOCK_TOUCH_MS while held
 * and removed on a clean stop. A second process finds it and is refused, naming the first.
 * A lock is stale, and taken over, when its process is gone: on the same host, its pid is no
 * longer alive (or is our own: a container restarted as pid 1 again); anywhere, it was not
 * touched for STORE_LOCK_STALE_MS (a crashed container on a shared volume).
 *
 * memory:// needs no lock (each process has its own); Redis is shared on purpose (replicas,
 * src/replicas.ts).
 */
import { mkdir, open, readFile, rm, stat, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { STORE_LOCK_STALE_MS, STORE_LOCK_TOUCH_MS } from '../defaults.js';
import { UsageError } from '../errors.js';

/** Who holds a store lock. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** ISO 8601. */
  readonly started: string;
}

/** A second process on a store that allows one: exit 2 (like a config mistake), naming the first. */
export class StoreInUseError extends UsageError {
  readonly holder: LockHolder;
  constructor(path: string, holder: LockHolder) {
    super(
      `${path} is in use by another botfleet (pid ${holder.pid} on ${holder.host}, started ${holder.started}); ` +
        'a SQLite store serves one process: stop that one first, or use redis:// to run replicas',
    );
    this.name = 'StoreInUseError';
    this.holder = holder;
  }
}

/** The lock of `sqlitePath`'s store, taken; `release()` removes it (idempotent). */
export interface StoreLock {
  readonly path: string;
  release(): Promise<void>;
}

/** Takes the lock beside `sqlitePath`. Throws StoreInUseError when a live process holds it. */
export async function lockSqliteStore(sqlitePath: string, pid: number): Promise<StoreLock> {
  const path = `${sqlitePath}.lock`;
  const me: LockHolder = { pid, host: hostname(), started: new Date().toISOString() };
  await mkdir(dirname(sqlitePath), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await createExclusive(path, me)) return heldLock(path, me);
    const holder = await readHolder(path);
    if (holder !== undefined && !(await isStale(path, holder, pid))) throw new StoreInUseError(sqlitePath, holder);
    // Stale (or vanished or unreadable between our attempts): remove it and try again.
    await rm(path, { force: true });
  }
  const holder = await readHolder(path);
  throw new StoreInUseError(sqlitePath, holder ?? { pid: 0, host: 'unknown', started: 'unknown' });
}

async function createExclusive(path: string, me: LockHolder): Promise<boolean> {
  try {
    const file = await open(path, 'wx');
    await file.writeFile(`${JSON.stringify(me)}\n`);
    await file.close();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<LockHolder>;
    if (typeof parsed.pid !== 'number' || typeof parsed.host !== 'string') return undefined;
    return { pid: parsed.pid, host: parsed.host, started: String(parsed.started) };
  } catch (error) {
    // Converted: a lock half-written by a process that crashed (or one just removed) is stale.
    if (error instanceof SyntaxError || (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function isStale(path: string, holder: LockHolder, pid: number): Promise<boolean> {
  if (holder.host === hostname() && (holder.pid === pid || !isAlive(holder.pid))) return true;
  try {
    const { mtimeMs } = await stat(path);
    return Date.now() - mtimeMs > STORE_LOCK_STALE_MS;
  } catch (error) {
    // Converted: removed meanwhile, so nobody holds it.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, owned by someone else; ESRCH: gone.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A taken lock: touched while held, so another host can tell it is alive. */
function heldLock(path: string, me: LockHolder): StoreLock {
  const touch = setInterval(() => {
    const now = new Date();
    // A failed touch is harmless while we run (the lock stays ours); only its age suffers.
    utimes(path, now, now).catch(() => 'the next touch tries again');
  }, STORE_LOCK_TOUCH_MS);
  touch.unref();
  let released = false;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      clearInterval(touch);
      // Remove only our own lock: a stale-lock takeover may have replaced it meanwhile.
      const holder = await readHolder(path);
      if (holder?.pid === me.pid && holder.host === me.host && holder.started === me.started)
        await rm(path, { force: true });
    },
  };
}
