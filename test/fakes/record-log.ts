/**
 * An append-only log of records numbered by `seq` (0, 1, 2, … over the fake's life, never
 * reused). Appending and reading "everything since seq N" cost O(1) and O(returned); waiters
 * are checked once per appended record, so nothing on the hot path scans the whole log.
 */

/** What every logged record carries. */
export interface Sequenced {
  /** Position in the log, starting at 0; stays unique after `clear()`. */
  readonly seq: number;
}

/** Options for `RecordLog.waitFor`. */
export interface WaitOptions {
  /** Give up after this many ms (default 5000) and reject with an Error naming `what`. */
  readonly timeoutMs?: number;
  /** Only records with `seq >= since` count (default 0: records already logged count too). */
  readonly since?: number;
  /** Names the awaited thing in the timeout message. */
  readonly what?: string;
}

/** The log handle; see `createRecordLog`. */
export interface RecordLog<T extends Sequenced> {
  /** Builds a record with the next seq, appends it, notifies listeners and returns it. */
  append(build: (seq: number) => T): T;
  /** Records with `seq >= since` still held (all when `since` is omitted), oldest first. */
  since(since?: number): readonly T[];
  /** The seq the next record will get. */
  nextSeq(): number;
  /** Forgets every record held so far; seqs keep counting. */
  clear(): void;
  /** Calls `listener` for every record appended from now on; returns the unsubscribe function. */
  onAppend(listener: (record: T) => void): () => void;
  /** Resolves with the first record (held, or appended later) with `seq >= since` matching
   * `predicate`; rejects after `timeoutMs`. */
  waitFor(predicate: (record: T) => boolean, options?: WaitOptions): Promise<T>;
  /** Resolves once a record with `seq >= since` exists or `timeoutMs` passes (never rejects);
   * the control API's `?wait=` long poll. */
  waitForAny(since: number, timeoutMs: number): Promise<void>;
  /** Rejects every pending waiter with `reason` (used on close). */
  abortWaiters(reason: Error): void;
}

/** Creates an empty log. */
export function createRecordLog<T extends Sequenced>(): RecordLog<T> {
  let records: T[] = [];
  let base = 0; // seq of records[0]
  let next = 0;
  const listeners = new Set<(record: T) => void>();
  const rejecters = new Set<(reason: Error) => void>();

  const since = (from = 0): readonly T[] => records.slice(Math.max(0, from - base));

  const onAppend = (listener: (record: T) => void): (() => void) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  };

  return {
    append(build) {
      const record = build(next++);
      records.push(record);
      if (listeners.size > 0) for (const listener of [...listeners]) listener(record);
      return record;
    },
    since,
    nextSeq: () => next,
    clear() {
      records = [];
      base = next;
    },
    onAppend,
    waitFor(predicate, options = {}) {
      const found = since(options.since ?? 0).find(predicate);
      if (found !== undefined) return Promise.resolve(found);
      const timeoutMs = options.timeoutMs ?? 5000;
      return new Promise<T>((resolve, reject) => {
        const finish = (): void => {
          clearTimeout(timer);
          unsubscribe();
          rejecters.delete(fail);
        };
        const fail = (reason: Error): void => {
          finish();
          reject(reason);
        };
        const unsubscribe = onAppend((record) => {
          if (record.seq < (options.since ?? 0) || !predicate(record)) return;
          finish();
          resolve(record);
        });
        const timer = setTimeout(
          () => fail(new Error(`timed out after ${timeoutMs} ms waiting for ${options.what ?? 'a matching record'}`)),
          timeoutMs,
        );
        rejecters.add(fail);
      });
    },
    waitForAny(from, timeoutMs) {
      if (next > from || timeoutMs <= 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          unsubscribe();
          rejecters.delete(done);
          resolve();
        };
        const unsubscribe = onAppend(done);
        const timer = setTimeout(done, timeoutMs);
        rejecters.add(done);
      });
    },
    abortWaiters(reason) {
      for (const reject of [...rejecters]) reject(reason);
    },
  };
}
