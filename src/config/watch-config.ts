/**
 * Watches the config file and the `.env` it reads. Editors save by writing a new file and
 * renaming it over the old one, so the folders are watched (not the files), and a burst of
 * events becomes one call after a quiet moment. A file that is a symlink is also watched where
 * it points, and a Kubernetes ConfigMap mount (which swaps a `..data` symlink) counts as a
 * change of every watched file in it.
 */
import { type FSWatcher, realpathSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { DEFAULT_RELOAD_DEBOUNCE_MS } from '../defaults.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';

/** What to watch and whom to tell. */
export interface WatchConfigOptions {
  /** Absolute paths of the files to watch (the config file and `.env`). */
  readonly files: readonly string[];
  /** Quiet time after the last event before `onChange` runs, in ms. Default DEFAULT_RELOAD_DEBOUNCE_MS. */
  readonly debounceMs?: number;
  /** Called with the changed file names (at most once per quiet time). */
  readonly onChange: (files: readonly string[]) => void;
  readonly logger: Logger;
}

/** A running watch; `close()` stops it. */
export interface ConfigWatchHandle {
  close(): void;
}

/** Starts watching; one watcher per folder. A folder that cannot be watched is logged (the
 * fleet still reloads on SIGHUP). */
export function watchConfigFiles(options: WatchConfigOptions): ConfigWatchHandle {
  const byFolder = new Map<string, Set<string>>();
  for (const file of watchedPaths(options.files)) {
    const names = byFolder.get(dirname(file)) ?? new Set<string>();
    byFolder.set(dirname(file), names.add(basename(file)));
  }
  const changed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const fire = (): void => {
    timer = undefined;
    const files = [...changed];
    changed.clear();
    options.onChange(files);
  };
  const watchers: FSWatcher[] = [];
  for (const [folder, names] of byFolder) {
    try {
      const watcher = watch(folder, { persistent: false }, (_event, name) => {
        if (name === null || !(names.has(name) || name === CONFIGMAP_SWAP)) return;
        for (const changedName of name === CONFIGMAP_SWAP ? names : [name]) changed.add(changedName);
        clearTimeout(timer);
        timer = setTimeout(fire, options.debounceMs ?? DEFAULT_RELOAD_DEBOUNCE_MS);
      });
      watcher.on('error', (error) =>
        options.logger.warn({ folder, err: error.message }, 'stopped watching a config folder; SIGHUP still reloads'),
      );
      watchers.push(watcher);
    } catch (error) {
      // Watching is a convenience: without it, SIGHUP still reloads.
      options.logger.warn({ folder, err: errorMessage(error) }, 'cannot watch the config folder; reload with SIGHUP');
    }
  }
  return {
    close() {
      clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
    },
  };
}

/** The name Kubernetes renames over when it updates a ConfigMap volume. */
const CONFIGMAP_SWAP = '..data';

/** `files`, plus where each symlink among them points when that is another folder (not one of
 * the ConfigMap's own `..` folders, which are replaced on every update). */
function watchedPaths(files: readonly string[]): string[] {
  const paths = [...files];
  for (const file of files) {
    let target: string;
    try {
      target = realpathSync(file);
    } catch {
      // A missing file (.env is optional) has no target to watch; its folder is watched.
      continue;
    }
    if (dirname(target) !== dirname(file) && !target.includes('/..')) paths.push(target);
  }
  return paths;
}
