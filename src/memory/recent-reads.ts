/**
 * What the conversation store last read of each key, so the update right after a read (a turn's
 * append after its read) can skip its own get: 3 → 2 round trips per answered message.
 *
 * An entry is valid only until the next operation on its key. `reading` replaces it; `take`
 * (every update, before it reads) removes it, and the update then `forget`s the key again once
 * it has written (or failed). The entries live beside the Keyv object, not in one store: two
 * stores over one Keyv in a process see each other's operations. Across stores, the per-key lock
 * is not shared, so a read only becomes reusable if nothing else touched its key between its
 * start and its end (an entry replaced or dropped meanwhile is not remembered): a read that
 * raced another store's write is never reused. A failed or late read is not remembered, nor
 * (through `keep`) a value found unreadable and set aside; a failed or late write leaves no
 * entry either (it may still land: the next operation reads what is there).
 *
 * Other processes: this memory cannot see them, so an entry is reused only within `reuseMs` of
 * the moment its read was sent.
 *   - SQLite: one `botfleet run` per file (store-lock.ts); the history commands may write from
 *     another process, last writer wins (README, History), as before: unbounded by default.
 *   - Redis replicas: a bot is held by one replica at a time, but a holder that stalled loses its
 *     lease LEASE_SAFE_MS after its last renewal (its bot stops at once) and another may take it
 *     LEASE_TTL_MS after that renewal, not earlier. A read sent while the bot ran was sent at most
 *     LEASE_SAFE_MS after the last renewal, so no new holder can have written before `sent +
 *     (LEASE_TTL_MS - LEASE_SAFE_MS)`: an append deciding within that margin writes before any new
 *     holder could (apart from its own set's flight, as the get-then-set always had), and past
 *     it the append reads again as before. So the window in which an old holder overwrites a new
 *     holder's write is no wider than today's read-modify-write (get → set).
 * Memory: an entry holds one conversation's state; most are consumed by the append a moment
 * later, but a read followed by no update (an update already answered, a replay's check) leaves
 * one. So the map is bounded (RECENT_READS_LIMIT, the oldest dropped first), and entries older
 * than RECENT_READ_MAX_AGE_MS are never reused and are swept at the next read; an entry dropped
 * only costs the update its own read.
 */
import { LEASE_SAFE_MS, LEASE_TTL_MS } from '../defaults.js';
import type { StoreBackend } from './store-error.js';

/** Most keys remembered per Keyv: above the conversations answered at once by a typical fleet. */
export const RECENT_READS_LIMIT = 256;

/** Oldest read ever reused or kept, in ms: longer than a model reply takes. */
export const RECENT_READ_MAX_AGE_MS = 5 * 60_000;

/** The remembered reads of one store (over a map shared by the stores of one Keyv). */
export interface RecentReads<T> {
  /** Runs `read` (the key's get) and remembers its state for the next update, unless something
   * else touched the key meanwhile, `read` failed, or `keep` refuses the state. */
  reading(storageKey: string, read: () => Promise<T>): Promise<T>;
  /** Removes the key's entry; its state when it was read last and within `reuseMs`. */
  take(storageKey: string): T | undefined;
  /** Removes the key's entry (after a write: whatever another store was reading meanwhile
   * may predate it). */
  forget(storageKey: string): void;
  /** After a write that failed or was late: it may still land (a timed-out call is not
   * cancelled), after a later read, so no read of this key is remembered for
   * RECENT_READ_MAX_AGE_MS (each update reads for itself, as without this memory). */
  distrust(storageKey: string): void;
}

interface Entry {
  /** performance.now() when the read was sent. */
  readonly sentAt: number;
  state: unknown;
}

// Keyed by the Keyv object (weakly: gone with it), so the stores sharing one backend connection
// share what they read; not a singleton of state shared by unrelated stores.
const byKeyv = new WeakMap<object, Map<string, Entry>>();
/** Per Keyv: keys whose reads are not remembered until the time given (performance.now()). */
const distrustedByKeyv = new WeakMap<object, Map<string, number>>();

/** How long a read may stand in for an update's get on `backend`, in ms (see the file comment). */
export function reuseReadMsFor(backend: StoreBackend): number {
  return backend === 'redis' ? LEASE_TTL_MS - LEASE_SAFE_MS : Number.POSITIVE_INFINITY;
}

/** The remembered reads over `keyv`, reused within `reuseMs` of their read, `keep` deciding
 * which states may be remembered at all. */
export function recentReadsOf<T>(keyv: object, reuseMs: number, keep: (state: T) => boolean): RecentReads<T> {
  let entries = byKeyv.get(keyv);
  if (entries === undefined) {
    entries = new Map();
    byKeyv.set(keyv, entries);
  }
  const map = entries;
  let distrusted = distrustedByKeyv.get(keyv);
  if (distrusted === undefined) {
    distrusted = new Map();
    distrustedByKeyv.set(keyv, distrusted);
  }
  const untrusted = distrusted;
  const trusted = (storageKey: string, at: number): boolean => {
    const until = untrusted.get(storageKey);
    if (until === undefined) return true;
    if (at < until) return false;
    untrusted.delete(storageKey);
    return true;
  };
  const maxAgeMs = Math.min(reuseMs, RECENT_READ_MAX_AGE_MS);
  return {
    async reading(storageKey, read) {
      const entry: Entry = { sentAt: performance.now(), state: undefined };
      map.delete(storageKey);
      // Oldest first (Map order is insertion order): drop what is too old to be reused.
      for (const [key, old] of map) {
        if (map.size < RECENT_READS_LIMIT && entry.sentAt - old.sentAt < RECENT_READ_MAX_AGE_MS) break;
        map.delete(key);
      }
      map.set(storageKey, entry);
      let state: T;
      try {
        state = await read();
      } catch (error) {
        if (map.get(storageKey) === entry) map.delete(storageKey);
        throw error;
      }
      // Replaced or dropped meanwhile (another operation, or the bound), or a late write of the
      // key may still land: not remembered.
      if (map.get(storageKey) !== entry) return state;
      if (!trusted(storageKey, performance.now())) {
        map.delete(storageKey);
        return state;
      }
      if (keep(state)) entry.state = state;
      else map.delete(storageKey);
      return state;
    },
    take(storageKey) {
      const entry = map.get(storageKey);
      map.delete(storageKey);
      if (entry?.state === undefined || performance.now() - entry.sentAt >= maxAgeMs) return undefined;
      return entry.state as T;
    },
    forget(storageKey) {
      map.delete(storageKey);
    },
    distrust(storageKey) {
      map.delete(storageKey);
      const at = performance.now();
      // Oldest first: drop the expired, and beyond the bound the oldest (bounded like the reads).
      for (const [key, until] of untrusted) {
        if (untrusted.size < RECENT_READS_LIMIT && until > at) break;
        untrusted.delete(key);
      }
      untrusted.delete(storageKey);
      untrusted.set(storageKey, at + RECENT_READ_MAX_AGE_MS);
    },
  };
}
