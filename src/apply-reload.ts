/**
 * Applying a reload to a running fleet: which bots stop, restart, start or just take the new
 * config is decided by planReload (fleet-plan.ts); this runs the plan, one reload at a time,
 * after checking everything that can be checked before anything stops.
 */
import type { BotConfig, FleetConfig } from './config/types.js';
import { DEFAULT_SHUTDOWN_DEADLINE_MS } from './defaults.js';
import { AppError } from './errors.js';
import { type FleetPlan, planReload } from './fleet-plan.js';
import { botSetupProblem } from './telegram/check-token.js';
import type { BotHandle } from './telegram/start-bot.js';

/** What a reload did: the plan, and the bots of it that could not start after all. */
export interface AppliedReload extends FleetPlan {
  /** Added or restarted bots that failed to start (they are not running); empty normally. */
  readonly failed: readonly { readonly id: string; readonly reason: string }[];
}

/** What the applier works on, shared with the fleet. */
export interface ApplierState {
  readonly current: FleetConfig;
  readonly bots: Map<string, BotHandle>;
  readonly start: (bot: BotConfig) => string | undefined;
  readonly checkNoBotLeft: () => void;
  /** `stopRequested`: set once by stop; `reloading`: set here while a reload changes `bots`. */
  readonly flags: { readonly stopRequested: boolean; reloading: boolean };
}

/** Runs reloads one at a time against the running `bots`; `idle` resolves when none runs. */
export function createReloadApplier(state: ApplierState): {
  apply(next: FleetConfig): Promise<AppliedReload>;
  idle(): Promise<void>;
} {
  let current = state.current;
  let applying: Promise<unknown> = Promise.resolve();
  const applyNow = async (next: FleetConfig): Promise<AppliedReload> => {
    const plan = planReload(current, next);
    checkBeforeChanging(plan, state);
    state.flags.reloading = true;
    try {
      const failed = await changeBots(plan, state);
      // What runs now: a bot that failed to start is not current, so the next reload retries it.
      const notRunning = new Set(failed.map((failure) => failure.id));
      current = {
        ...next,
        bots: next.bots.filter((bot) => !notRunning.has(bot.id)),
        storage: current.storage,
        server: current.server,
      };
      return { ...plan, failed };
    } finally {
      state.flags.reloading = false;
      state.checkNoBotLeft();
    }
  };
  return {
    apply(next) {
      const applied = applying.then(() => applyNow(next));
      // The next apply waits for this one whatever its outcome; the caller gets the outcome.
      applying = applied.then(
        () => 'applied',
        () => 'rejected',
      );
      return applied;
    },
    idle: async () => {
      await applying;
    },
  };
}

/** Everything that can be checked before anything stops or starts. Throws AppError. */
function checkBeforeChanging(plan: FleetPlan, state: ApplierState): void {
  if (state.flags.stopRequested) throw new AppError('config', 'botfleet is stopping; nothing was changed');
  const problems = setupProblems([...plan.added, ...plan.restarted]);
  if (problems.length > 0) throw new AppError('config', `${problems.join('; ')}; nothing was changed`);
}

/** Stops, restarts, starts and updates the bots of `plan`; returns the bots that failed to start. */
async function changeBots(plan: FleetPlan, state: ApplierState): Promise<AppliedReload['failed']> {
  const failed: { id: string; reason: string }[] = [];
  const startOrRecord = (bot: BotConfig): void => {
    const reason = state.start(bot);
    if (reason !== undefined) failed.push({ id: bot.id, reason });
  };
  const drainAndStop = async (id: string): Promise<void> => {
    await state.bots.get(id)?.stop(DEFAULT_SHUTDOWN_DEADLINE_MS);
    state.bots.delete(id);
  };
  // Removed and restarted bots drain first, so a restarted token never polls twice.
  await Promise.all([
    ...plan.removed.map(drainAndStop),
    ...plan.restarted.map(async (bot) => {
      await drainAndStop(bot.id);
      startOrRecord(bot);
    }),
  ]);
  plan.added.forEach(startOrRecord);
  for (const bot of plan.updated) state.bots.get(bot.id)?.update(bot);
  return failed;
}

/** Why some of `bots` cannot start (settings the Telegram client refuses), one line each. */
function setupProblems(bots: readonly BotConfig[]): string[] {
  return bots.flatMap((bot) => {
    const problem = botSetupProblem(bot);
    return problem === undefined ? [] : [`bot ${bot.id} cannot start (${problem})`];
  });
}
