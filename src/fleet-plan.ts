/**
 * What a config reload changes, bot by bot. Pure: compares the running config with the new
 * one and says which bots start, stop, restart (their connection to Telegram changed) or just
 * take new settings from the next message on.
 */
import { isDeepStrictEqual } from 'node:util';
import type { BotConfig, FleetConfig } from './config/types.js';

/** The per-bot difference between two configs. */
export interface FleetPlan {
  /** Bots to start: new ids, or ids that were disabled. */
  readonly added: readonly BotConfig[];
  /** Ids of bots to drain and stop: removed from the file or `enabled: false`. */
  readonly removed: readonly string[];
  /** Bots whose runner restarts (drained first): token, `telegram.apiRoot` or
   * any other `telegram` setting changed but the waiting limits (read per message). */
  readonly restarted: readonly BotConfig[];
  /** Bots whose other settings changed: applied from the next message, nothing restarts. */
  readonly updated: readonly BotConfig[];
  /** The storage section changed: it cannot be applied without a restart of botfleet. */
  readonly storageChanged: boolean;
  /** The server section changed: it applies only after a restart (scrapers and the
   * healthcheck point at the running address). */
  readonly serverChanged: boolean;
}

/** Compares `current` with `next`. */
export function planReload(current: FleetConfig, next: FleetConfig): FleetPlan {
  const before = new Map(current.bots.map((bot) => [bot.id, bot]));
  const after = new Map(next.bots.map((bot) => [bot.id, bot]));
  const added: BotConfig[] = [];
  const restarted: BotConfig[] = [];
  const updated: BotConfig[] = [];
  for (const bot of next.bots) {
    const old = before.get(bot.id);
    if (old === undefined) added.push(bot);
    else if (needsRestart(old, bot)) restarted.push(bot);
    else if (!isDeepStrictEqual(old, bot)) updated.push(bot);
  }
  return {
    added,
    removed: current.bots.filter((bot) => !after.has(bot.id)).map((bot) => bot.id),
    restarted,
    updated,
    storageChanged: !isDeepStrictEqual(current.storage, next.storage),
    serverChanged: !isDeepStrictEqual(current.server, next.server),
  };
}

/** Whether a plan changes anything at all. */
export function isEmptyPlan(plan: FleetPlan): boolean {
  return (
    plan.added.length + plan.removed.length + plan.restarted.length + plan.updated.length === 0 &&
    !plan.storageChanged &&
    !plan.serverChanged
  );
}

function needsRestart(old: BotConfig, next: BotConfig): boolean {
  return old.token !== next.token || !isDeepStrictEqual(runnerSettings(old), runnerSettings(next));
}

/** The `telegram` settings the runner is built with; the waiting limits are read per message. */
function runnerSettings(
  bot: BotConfig,
): Omit<BotConfig['telegram'], 'maxWaitingPerConversation' | 'maxWaitingUpdates'> {
  const { maxWaitingPerConversation: _perConversation, maxWaitingUpdates: _updates, ...runner } = bot.telegram;
  return runner;
}
