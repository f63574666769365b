/**
 * Paces the updates of one streamed reply (edits or drafts): the first update waits
 * `firstDelayMs` after the first text, later ones start at least `intervalMs` after the
 * previous one started, never two run at once, and an update always shows the latest text (new
 * text that arrives while one runs, or while a 429 is waited out, is coalesced into the next).
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** The pacing of one streamed reply; see the module comment. */
export interface Pacer {
  /** New text arrived: schedules an update, unless one is already scheduled. */
  poke(): void;
  /** Stops scheduling, waits for the update in flight and for the floor after it, then runs
   * `last` as the final update (counted like any other). May be called more than once. */
  finish(last: () => Promise<unknown>): Promise<void>;
  /** True once any update (scheduled or final) has started. */
  started(): boolean;
}

/** What the pacer is given: `update` must not reject (it logs its own failures); it resolves
 * false when it skipped (the text is still to be shown: another update is scheduled). */
export interface PacerOptions {
  /** Shutdown: once aborted, `finish` no longer waits for the floor. */
  readonly signal?: AbortSignal;
  readonly firstDelayMs: number;
  readonly intervalMs: number;
  readonly update: () => Promise<boolean>;
}

/** A pacer for one reply; see Pacer. */
export function createPacer(options: PacerOptions): Pacer {
  let firstTextAt: number | undefined;
  let lastStart: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let dirty = false;
  let finishing = false;

  const dueAt = (): number =>
    lastStart === undefined ? (firstTextAt ?? Date.now()) + options.firstDelayMs : lastStart + options.intervalMs;
  const schedule = (): void => {
    if (finishing || timer !== undefined || running !== undefined || !dirty) return;
    timer = setTimeout(run, Math.max(0, dueAt() - Date.now()));
  };
  const start = (update: () => Promise<unknown>): Promise<void> => {
    lastStart = Date.now();
    dirty = false;
    running = update().then(
      (done) => {
        running = undefined;
        if (done === false) dirty = true;
        schedule();
      },
      () => {
        // `update` must not reject; if it does, the final update still runs.
        running = undefined;
      },
    );
    return running;
  };
  /** Waits until the next update is due; shutdown (`signal`) ends the wait at once. */
  async function floor(signal: AbortSignal | undefined): Promise<void> {
    if (lastStart === undefined || signal?.aborted === true) return;
    try {
      await sleep(Math.max(0, dueAt() - Date.now()), undefined, signal ? { signal } : {});
    } catch (error) {
      // Handled: an abort ends the wait and the final update goes at once; anything else is a bug.
      if (!signal?.aborted) throw error;
    }
  }
  function run(): void {
    timer = undefined;
    if (!finishing) void start(options.update);
  }
  return {
    poke() {
      firstTextAt ??= Date.now();
      dirty = true;
      schedule();
    },
    async finish(last) {
      finishing = true;
      clearTimeout(timer);
      timer = undefined;
      while (running !== undefined) await running;
      await floor(options.signal);
      await start(last);
    },
    started: () => lastStart !== undefined,
  };
}
