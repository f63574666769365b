/**
 * Signals: the first SIGTERM or SIGINT starts a graceful stop (the caller's `stop`, which
 * drains in-flight replies within its deadline); a second one exits with status 1 at once.
 */
import { errorMessage } from './errors.js';
import type { Logger } from './logger.js';

/** Installed signal handling; `signalled` resolves with the signal's name once `stop` finished. */
export interface ShutdownHandle {
  readonly signalled: Promise<string>;
  /** Removes the signal listeners (after a stop that had another cause). */
  dispose(): void;
}

/** Listens for SIGTERM and SIGINT; `stop` runs once, on the first of them. */
export function handleShutdownSignals(stop: () => Promise<void>, logger: Logger): ShutdownHandle {
  let stopping = false;
  let resolveSignalled: (name: string) => void = () => undefined;
  const signalled = new Promise<string>((resolve) => (resolveSignalled = resolve));
  const onSignal = (name: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal: name }, 'second signal: exiting now without waiting');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal: name }, 'stopping: no new messages are taken; finishing replies in flight');
    stop().then(
      () => resolveSignalled(name),
      (error: unknown) => {
        logger.error({ err: errorMessage(error) }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    signalled,
    dispose() {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    },
  };
}

/** Calls `reload` on every SIGHUP (the conventional "re-read your config" signal); returns a
 * function that removes the listener. */
export function handleReloadSignal(reload: () => void): () => void {
  const onHangup = (): void => reload();
  process.on('SIGHUP', onHangup);
  return () => process.off('SIGHUP', onHangup);
}
