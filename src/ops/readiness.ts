/**
 * What /readyz reports: every bot's state, as operators name it, and whether storage answers
 * a round trip (with a short deadline, its result reused briefly so scrapes stay cheap). Ready
 * only when storage answers and every bot this process runs polls. A replica on Redis lists the
 * bots another replica holds as `standby` (reason: `held by REPLICA`, or `not held yet`); they
 * do not make it unready, so a replica holding no bot (a standby) is ready.
 */

import { READY_STORAGE_CACHE_MS, READY_STORAGE_TIMEOUT_MS } from '../defaults.js';
import { errorMessage } from '../errors.js';
import type { BotState } from '../telegram/supervisor.js';

/** A bot as /readyz shows it: `backing-off` after a 409 or network errors; `stopped` with a
 * reason (`token rejected`, or `stopped`). */
export interface BotReadiness {
  readonly state: 'starting' | 'polling' | 'backing-off' | 'stopped' | 'standby';
  readonly reason?: string;
}

/** Storage as /readyz shows it; `reason` names what failed (the URL's password masked). */
export interface StorageReadiness {
  readonly state: 'ok' | 'unreachable';
  readonly reason?: string;
}

/** The body of /readyz. */
export interface Readiness {
  readonly ready: boolean;
  readonly storage: StorageReadiness;
  readonly bots: Readonly<Record<string, BotReadiness>>;
}

/** Where readiness is read from. */
export interface ReadinessDeps {
  /** Every running bot's id and state, now. */
  readonly bots: () => Iterable<readonly [id: string, state: BotState]>;
  /** The bots a replica leaves to the others, with their holder (see start-ops.ts). */
  readonly elsewhere?: () => Iterable<readonly [id: string, holder: string | undefined]>;
  /** A storage round trip within `timeoutMs`; rejects when storage does not answer. */
  readonly pingStorage: (timeoutMs: number) => Promise<void>;
  /** Round trip deadline, in ms. Default READY_STORAGE_TIMEOUT_MS. */
  readonly timeoutMs?: number;
  /** How long a round trip's result is reused, in ms. Default READY_STORAGE_CACHE_MS. */
  readonly cacheMs?: number;
}

/** Returns `check`, which never rejects; concurrent checks share one round trip. */
export function createReadiness(deps: ReadinessDeps): { check(): Promise<Readiness> } {
  const timeoutMs = deps.timeoutMs ?? READY_STORAGE_TIMEOUT_MS;
  const cacheMs = deps.cacheMs ?? READY_STORAGE_CACHE_MS;
  let last: { at: number; result: Promise<StorageReadiness> } | undefined;
  const storage = (): Promise<StorageReadiness> => {
    const now = performance.now();
    if (last === undefined || now - last.at > cacheMs) {
      const result = deps.pingStorage(timeoutMs).then(
        (): StorageReadiness => ({ state: 'ok' }),
        // Converted: an unreachable store is what /readyz reports, not a failure of /readyz.
        (error: unknown): StorageReadiness => ({ state: 'unreachable', reason: errorMessage(error) }),
      );
      // The result counts from when it is known, so a slow round trip is not repeated at once.
      last = { at: Number.POSITIVE_INFINITY, result };
      const entry = last;
      void result.then(() => (entry.at = performance.now()));
    }
    return last.result;
  };
  return {
    async check() {
      const bots: Record<string, BotReadiness> = {};
      for (const [id, holder] of deps.elsewhere?.() ?? [])
        bots[id] = { state: 'standby', reason: holder === undefined ? 'not held yet' : `held by ${holder}` };
      for (const [id, state] of deps.bots()) bots[id] = botReadiness(state);
      const store = await storage();
      const ready = store.state === 'ok' && Object.values(bots).every(isFine);
      return { ready, storage: store, bots };
    },
  };
}

function isFine(bot: BotReadiness): boolean {
  return bot.state === 'polling' || bot.state === 'standby';
}

/** The supervisor's state (supervisor.ts) in the operators' words. */
export function botReadiness(state: BotState): BotReadiness {
  switch (state) {
    case 'retrying':
      return { state: 'backing-off' };
    case 'rejected':
      return { state: 'stopped', reason: 'token rejected' };
    case 'stopped':
      return { state: 'stopped', reason: 'stopped' };
    default:
      return { state };
  }
}

/** One line saying why `readiness` is not ready (or that it is). */
export function notReadyReason(readiness: Readiness): string {
  if (readiness.ready) return 'ready';
  const problems: string[] = [];
  if (readiness.storage.state !== 'ok')
    problems.push(`storage ${readiness.storage.state} (${readiness.storage.reason ?? 'no answer'})`);
  for (const [id, bot] of Object.entries(readiness.bots)) {
    if (!isFine(bot)) problems.push(`bot ${id} ${bot.state}${bot.reason ? ` (${bot.reason})` : ''}`);
  }
  return `not ready: ${problems.join('; ')}`;
}
