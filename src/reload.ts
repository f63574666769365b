/**
 * Live reload: on a change of the config file or `.env` (or SIGHUP), load and validate the
 * whole file; an invalid edit is logged problem by problem and the fleet stays exactly as it
 * was; a valid one is applied bot by bot. One log line summarises each reload.
 */
import { resolve } from 'node:path';
import type { FleetHandle } from './app.js';
import { type LoadConfigOptions, loadConfig } from './config/load-config.js';
import type { FleetConfig } from './config/types.js';
import { watchConfigFiles } from './config/watch-config.js';
import { ConfigError, formatProblem } from './errors.js';
import { isEmptyPlan } from './fleet-plan.js';
import type { Logger } from './logger.js';

/** What the reloader needs. */
export interface ReloaderOptions extends LoadConfigOptions {
  readonly fleet: Pick<FleetHandle, 'apply'>;
  readonly logger: Logger;
  /** Watch the files (false: SIGHUP only). */
  readonly watch: boolean;
  /** Quiet time before a change is read, in ms. Default 200. */
  readonly debounceMs?: number;
}

/** A running reloader. */
export interface ReloaderHandle {
  /** Reloads now (`reason` is logged). Reloads run one at a time; a request during one runs
   * once after it. Never rejects: failures are logged. */
  reload(reason: string): Promise<void>;
  /** Stops watching. */
  close(): void;
}

/** Starts watching (when asked) and returns the reload entry point for SIGHUP. */
export function startReloader(options: ReloaderOptions): ReloaderHandle {
  const { logger } = options;
  let running: Promise<void> | undefined;
  let again: string | undefined;

  const once = async (reason: string): Promise<void> => {
    let next: FleetConfig;
    try {
      next = await loadConfig(options);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      for (const problem of error.problems) logger.error({ reload: reason }, formatProblem(problem));
      logger.error(
        { reload: reason, problems: error.problems.length },
        'config not reloaded: fix the problems above; the running fleet is unchanged',
      );
      return;
    }
    const plan = await options.fleet.apply(next);
    if (plan.storageChanged)
      logger.warn(
        { reload: reason },
        'storage settings changed: they apply only after a restart of botfleet; still using the old storage',
      );
    const summary = {
      reload: reason,
      added: plan.added.map((bot) => bot.id),
      removed: [...plan.removed],
      restarted: plan.restarted.map((bot) => bot.id),
      updated: plan.updated.map((bot) => bot.id),
    };
    logger.info(summary, isEmptyPlan(plan) ? 'config reloaded: nothing changed' : 'config reloaded');
  };

  const reload = (reason: string): Promise<void> => {
    if (running) {
      again = reason;
      return running;
    }
    running = (async () => {
      let current: string | undefined = reason;
      while (current !== undefined) {
        again = undefined;
        try {
          await once(current);
        } catch (error) {
          // A bug or an I/O failure while reloading must not take the running fleet down.
          logger.error(
            { reload: current, err: error instanceof Error ? error.message : String(error) },
            'config reload failed; the running fleet is unchanged',
          );
        }
        current = again;
      }
      running = undefined;
    })();
    return running;
  };

  const watcher = options.watch
    ? watchConfigFiles({
        files: [resolve(options.cwd, options.file), resolve(options.cwd, '.env')],
        ...(options.debounceMs === undefined ? {} : { debounceMs: options.debounceMs }),
        logger,
        onChange: (files) => void reload(`${files.join(', ')} changed`),
      })
    : undefined;
  return { reload, close: () => watcher?.close() };
}
