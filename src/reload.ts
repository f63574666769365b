/**
 * Live reload: on a change of the config file or `.env` (or SIGHUP), wait until the file has
 * stopped changing, then load and validate the whole file; an invalid edit (or one that
 * enables no bot) is logged problem by problem and the fleet stays exactly as it was; a valid
 * one is applied bot by bot. One log line summarises each reload and says what was applied.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FleetHandle } from './app.js';
import type { AppliedReload } from './apply-reload.js';
import { type LoadConfigOptions, loadConfig } from './config/load-config.js';
import type { FleetConfig } from './config/types.js';
import { watchConfigFiles } from './config/watch-config.js';
import { DEFAULT_RELOAD_DEBOUNCE_MS, RELOAD_SETTLE_TRIES } from './defaults.js';
import { AppError, ConfigError, errorMessage, formatProblem } from './errors.js';
import { isEmptyPlan } from './fleet-plan.js';
import type { Logger } from './logger.js';

/** What the reloader needs. */
export interface ReloaderOptions extends LoadConfigOptions {
  readonly fleet: Pick<FleetHandle, 'apply'>;
  readonly logger: Logger;
  /** Watch the files (false: SIGHUP only). */
  readonly watch: boolean;
  /** Quiet time before a change is read, and between the reads that must agree, in ms.
   * Default DEFAULT_RELOAD_DEBOUNCE_MS. */
  readonly debounceMs?: number;
}

/** A running reloader. */
export interface ReloaderHandle {
  /** Reloads now (`reason` is logged). Reloads run one at a time; a request during one runs
   * once after it. Never rejects: failures are logged. */
  reload(reason: string): Promise<void>;
  /** Stops watching and takes no more reloads; resolves when a reload in progress is done. */
  close(): Promise<void>;
}

/** The message for a config that enables no bot (start-up refuses it, and so does a reload). */
export function enablesNoBot(file: string): string {
  return `${file} enables no bot; set enabled: true on at least one`;
}

/** Starts watching (when asked) and returns the reload entry point for SIGHUP. */
export function startReloader(options: ReloaderOptions): ReloaderHandle {
  const settleMs = options.debounceMs ?? DEFAULT_RELOAD_DEBOUNCE_MS;
  let closed = false;
  const reloads = oneAtATime(
    (reason) => reloadLogged(options, reason, settleMs),
    () => closed,
  );
  const watcher = options.watch
    ? watchConfigFiles({
        files: [resolve(options.cwd, options.file), resolve(options.cwd, '.env')],
        debounceMs: settleMs,
        logger: options.logger,
        onChange: (files) => void reloads.run(`${files.join(', ')} changed`),
      })
    : undefined;
  return {
    reload: reloads.run,
    close: async () => {
      closed = true;
      watcher?.close();
      await reloads.running();
    },
  };
}

/** Runs `work` one call at a time: a call while one runs is remembered and runs once after it
 * (the latest reason wins), and resolves when that is done. Nothing runs once `closed()`. */
function oneAtATime(
  work: (reason: string) => Promise<void>,
  closed: () => boolean,
): { run(reason: string): Promise<void>; running(): Promise<void> | undefined } {
  let running: Promise<void> | undefined;
  let again: string | undefined;
  const run = (reason: string): Promise<void> => {
    if (closed()) return Promise.resolve();
    if (running) {
      again = reason;
      return running;
    }
    running = (async () => {
      for (let current: string | undefined = reason; current !== undefined && !closed(); current = again) {
        again = undefined;
        await work(current);
      }
      running = undefined;
    })();
    return running;
  };
  return { run, running: () => running };
}

/** reloadOnce, with a failure logged instead of thrown. */
async function reloadLogged(options: ReloaderOptions, reason: string, settleMs: number): Promise<void> {
  try {
    await reloadOnce(options, reason, settleMs);
  } catch (error) {
    // A bug while reloading must not take the running fleet down; it may have struck
    // half-way, so the log does not claim the fleet is unchanged.
    options.logger.error(
      { reload: reason, err: errorMessage(error) },
      'config reload failed unexpectedly; some changes may not be applied: restart botfleet to be sure',
    );
  }
}

/** One reload: read a settled file, validate, apply, log the outcome in one line. */
async function reloadOnce(options: ReloaderOptions, reason: string, settleMs: number): Promise<void> {
  const { logger } = options;
  logger.debug({ reload: reason }, 'reload requested; reading the config once it has stopped changing');
  await settledFile(resolve(options.cwd, options.file), settleMs);
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
  if (next.bots.length === 0) {
    logger.error(
      { reload: reason },
      `config not reloaded: ${enablesNoBot(options.file)}. The running fleet is unchanged`,
    );
    return;
  }
  let applied: AppliedReload;
  try {
    applied = await options.fleet.apply(next);
  } catch (error) {
    // apply rejects with an AppError only before it changed anything.
    if (!(error instanceof AppError)) throw error;
    logger.error({ reload: reason }, `config not reloaded: ${error.message}`);
    return;
  }
  logOutcome(logger, reason, applied);
}

function logOutcome(logger: Logger, reason: string, applied: AppliedReload): void {
  if (applied.storageChanged)
    logger.warn(
      { reload: reason },
      'storage settings changed: they apply only after a restart of botfleet; still using the old storage',
    );
  const summary = {
    reload: reason,
    added: applied.added.map((bot) => bot.id),
    removed: [...applied.removed],
    restarted: applied.restarted.map((bot) => bot.id),
    updated: applied.updated.map((bot) => bot.id),
  };
  if (applied.failed.length > 0) {
    const failed = applied.failed.map((failure) => `${failure.id} (${failure.reason})`).join(', ');
    logger.error(
      { ...summary, failed: applied.failed.map((failure) => failure.id) },
      `config partly reloaded: everything was applied except that these bots did not start: ${failed}`,
    );
  } else logger.info(summary, isEmptyPlan(applied) ? 'config reloaded: nothing changed' : 'config reloaded');
}

/** Waits until two reads of `path`, `settleMs` apart, agree (at most RELOAD_SETTLE_TRIES tries), so a file an
 * editor is still writing in place is not loaded cut off. A read error ends the wait: the
 * loader reports it. */
async function settledFile(path: string, settleMs: number): Promise<void> {
  const read = async (): Promise<string | undefined> => {
    try {
      return await readFile(path, 'utf8');
    } catch {
      // Handled by the caller: undefined ends the wait, and the loader reads the file again
      // and turns the error into a ConfigProblem.
      return undefined;
    }
  };
  let before = await read();
  for (let tries = 0; tries < RELOAD_SETTLE_TRIES && before !== undefined; tries += 1) {
    await sleep(settleMs);
    const after = await read();
    if (after === before) return;
    before = after;
  }
}
