/**
 * The fleet's operations side: when `server` is set, the metrics (fleet-metrics.ts) and the
 * HTTP server (ops-server.ts) over the fleet's bots and storage; when it is not, nothing at all
 * (no metrics object, so the bots measure nothing). A change of `server` in a reload is logged
 * as needing a restart: the address is what Prometheus and the healthcheck are pointed at, and
 * moving it under them would be a surprise.
 */
import type { BotMetrics } from '../answer/metrics.js';
import type { ServerConfig } from '../config/types.js';
import type { Logger } from '../logger.js';
import type { BotState } from '../telegram/supervisor.js';
import { startOpsServer } from './ops-server.js';
import { createReadiness } from './readiness.js';

/** What the operations side reads from the fleet. */
export interface OpsDeps {
  /** Every running bot's id and state, now. */
  readonly bots: () => Iterable<readonly [id: string, state: BotState]>;
  /** A replica on Redis: every enabled bot it does not run, with the replica holding it (as
   * last seen; undefined: nobody yet). Absent: the process runs every bot. */
  readonly elsewhere?: () => Iterable<readonly [id: string, holder: string | undefined]>;
  /** A storage round trip within `timeoutMs`; rejects when storage does not answer. */
  readonly pingStorage: (timeoutMs: number) => Promise<void>;
  readonly logger: Logger;
}

/** The running operations side. */
export interface OpsHandle {
  /** What the bots report to; undefined when the server is off. */
  readonly metrics: BotMetrics | undefined;
  /** The server's `http://host:port`; undefined when it is off. */
  readonly url: string | undefined;
  /** A reload was applied (`removed`: the bots it stopped, whose series go; `serverChanged`:
   * logged as needing a restart) or rejected. */
  reloaded(outcome: { readonly removed: readonly string[]; readonly serverChanged: boolean } | 'rejected'): void;
  /** Stops the server; never rejects. */
  close(): Promise<void>;
}

/** Starts the server of `server` (nothing when undefined). Throws AppError('config') when it
 * cannot listen. */
export async function startOps(server: ServerConfig | undefined, deps: OpsDeps): Promise<OpsHandle> {
  const warnIfMoved = (outcome: Parameters<OpsHandle['reloaded']>[0]): void => {
    if (outcome === 'rejected' || !outcome.serverChanged) return;
    deps.logger.warn(
      {},
      'server settings changed: they apply only after a restart of botfleet; the server is unchanged',
    );
  };
  if (server === undefined) {
    return {
      metrics: undefined,
      url: undefined,
      reloaded: warnIfMoved,
      close: async () => undefined,
    };
  }
  const up = (state: BotState): 0 | 1 => (state === 'polling' ? 1 : 0);
  // prom-client (about 10 MB) is loaded only by a fleet that serves metrics.
  const { createFleetMetrics } = await import('./fleet-metrics.js');
  const metrics = createFleetMetrics(() => [...deps.bots()].map(([id, state]) => [id, up(state)] as const));
  const readiness = createReadiness({
    bots: deps.bots,
    pingStorage: deps.pingStorage,
    ...(deps.elsewhere ? { elsewhere: deps.elsewhere } : {}),
  });
  const http = await startOpsServer({
    ...server,
    registry: metrics.registry,
    readiness: readiness.check,
    logger: deps.logger,
  });
  return {
    metrics,
    url: http.url,
    reloaded(outcome) {
      metrics.configReload(outcome === 'rejected' ? 'rejected' : 'applied');
      if (outcome !== 'rejected') for (const bot of outcome.removed) metrics.forgetBot(bot);
      warnIfMoved(outcome);
    },
    close: () => http.close(),
  };
}
