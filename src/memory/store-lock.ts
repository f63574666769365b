/**
 * One `botfleet run` per SQLite file: a lock file beside it (`PATH.lock`), created exclusively,
 * holding who took it (pid, host, start time), touched every STORE_LOCK_TOUCH_MS while held
 * and removed on a clean stop. It appears whole or not at all: written to a file of our own,
 * then hard-linked as `PATH.lock` (link() fails when the name exists), so no process ever reads
 * a half-written lock and takes it for a crashed one's. A stale lock is removed only by the
 * process holding `PATH.lock.takeover` (created the same way), after it read the lock again:
 * two processes finding one stale lock never both remove a lock, so never both take it. A second process finds it and is refused, naming the first.
 * A lock is stale, and taken over, when its process is gone: on the same host, its pid is no
 * longer alive (or is our own: a container restarted as pid 1 again); anywhere, it was not
 * touched for STORE_LOCK_STALE_MS (a crashed container on a shared volume).
 *
 * memory:// needs no lock (each process has its own); Redis is shared on purpose (replicas,
 * src/replicas.ts).
 */
import { link, mkdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
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
  const giveUpAt = Date.now() + TAKEOVER_PATIENCE_MS;
  while (Date.now() < giveUpAt) {
    if (await createExclusive(path, me)) return heldLock(path, me);
    const holder = await readHolder(path);
    if (holder !== undefined && !(await isStale(path, holder, pid))) throw new StoreInUseError(sqlitePath, holder);
    // Stale (or vanished, or unreadable: not written by botfleet): remove it and try again, or
    // wait while another process does.
    if (!(await removeStale(path, holder, me)))
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20));
  }
  const holder = await readHolder(path);
  throw new StoreInUseError(sqlitePath, holder ?? { pid: 0, host: 'unknown', started: 'unknown' });
}

/** How long a start keeps trying while other processes take over a stale lock: longer than a
 * takeover file takes to go stale, so a crash mid-takeover never blocks the next start. */
const TAKEOVER_PATIENCE_MS = 15_000;

/** A takeover file older than this was left by a process that crashed while taking over (it
 * holds one for a few file operations). */
const TAKEOVER_STALE_MS = 10_000;

/** Creates `path` holding `me`, whole, unless it exists (then false). */
async function createExclusive(path: string, me: LockHolder): Promise<boolean> {
  const temp = `${path}.new-${me.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const text = `${JSON.stringify(me)}\n`;
  await writeFile(temp, text, { flag: 'wx' });
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // A filesystem without hard links (some network or FUSE mounts): an exclusive create, whose
    // content a reader may find empty for a moment (then judged unreadable, so stale).
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS' || code === 'EXDEV')
      return createExclusiveWithoutLink(path, text);
    throw error;
  } finally {
    await rm(temp, { force: true });
  }
}

async function createExclusiveWithoutLink(path: string, text: string): Promise<boolean> {
  try {
    await writeFile(path, text, { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** Removes the lock at `path` if it is still the one judged stale (`stale`; undefined:
 * unreadable), holding the takeover file meanwhile. False when another process holds that. */
async function removeStale(path: string, stale: LockHolder | undefined, me: LockHolder): Promise<boolean> {
  const takeover = `${path}.takeover`;
  if (!(await createExclusive(takeover, me))) {
    const age = await stat(takeover).then(
      (file) => Date.now() - file.mtimeMs,
      () => 0,
    );
    if (age > TAKEOVER_STALE_MS) await rm(takeover, { force: true });
    return false;
  }
  try {
    const now = await readHolder(path);
    const same =
      now === undefined
        ? stale === undefined
        : stale !== undefined && now.pid === stale.pid && now.host === stale.host && now.started === stale.started;
    // Not the same: another process took over meanwhile; the caller judges the new one.
    if (same) await rm(path, { force: true });
  } finally {
    await rm(takeover, { force: true });
  }
  return true;
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
