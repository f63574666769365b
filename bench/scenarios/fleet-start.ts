/**
 * Scenarios 4 and 5, from one set of launches per design: resident memory at idle with 1 bot
 * and with a large fleet (4), the time from launch to every bot polling and, for botfleet, from
 * saving a config that adds a bot to that bot polling (5).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFakes } from '../lib/fakes.js';
import { CLI_PATH } from '../lib/paths.js';
import { callCursor, waitForPolling } from '../lib/polling.js';
import { formatProfile, summariseProfile } from '../lib/profile.js';
import { atMost, type Row, row } from '../lib/report.js';
import { median } from '../lib/stats.js';
import { makeTokens, type SystemKind, startSystem } from '../lib/sut.js';
import { round, type ScenarioContext, type ScenarioResult } from './context.js';

/** Issue 15's goals: 70 MB idle with one bot, 100 MB with 50 (so 30 MB for 49 more bots). */
const RSS_BASE_MB = 70;
const RSS_PER_BOT_MB = 30 / 49;
const START_GOAL_MS = 2000;
const RELOAD_WAIT_MS = 10_000;

/** One launch: time to all polling, idle RSS and (botfleet, when asked) reload time. */
interface Launch {
  readonly bots: number;
  readonly pollingMs: number;
  /** Launch → the first Bot API call of any bot: process start, module loading, config, storage. */
  readonly firstCallMs: number;
  /** Resident memory after a forced full GC, and before it, MB. */
  readonly rssMb: number;
  readonly rawRssMb: number;
  readonly reloadMs?: number | string;
}

/** Whether the built CLI says it reloads (the help mentions SIGHUP). */
function reloadAvailable(): boolean {
  try {
    return execFileSync(process.execPath, [CLI_PATH, '--help'], { encoding: 'utf8' }).includes('SIGHUP');
  } catch {
    // A CLI that cannot print its help cannot be asked to reload either.
    return false;
  }
}

let launchCounter = 0;

async function launch(
  kind: SystemKind,
  bots: number,
  settleMs: number,
  reload: boolean,
  profileDir?: string,
): Promise<Launch> {
  const fakes = await startFakes({ recordGetUpdates: true });
  const run = `${process.pid}s${++launchCounter}`;
  const tokens = makeTokens(bots, run);
  try {
    await fakes.addBots(tokens);
    const since = await callCursor(fakes);
    const system = await startSystem({
      kind,
      fakes,
      tokens,
      storage: 'sqlite',
      gcOnSignal: true,
      ...(profileDir !== undefined && { profile: { dir: profileDir, name: `start-${kind}-${bots}.cpuprofile` } }),
    });
    try {
      const first = await waitForPolling(fakes, system, tokens, since, 30_000);
      const spawnedAt = system.spawnedAt + fakes.clockOffsetMs;
      const pollingMs = Math.max(...first.values()) - spawnedAt;
      const { calls } = await fakes.telegram<{ calls: { at: number }[] }>(`/__fake/calls?since=${since}&limit=1`);
      const firstCallMs = (calls[0]?.at ?? NaN) - spawnedAt;
      await sleep(settleMs);
      const sample = async (): Promise<number> => {
        const samples: number[] = [];
        for (let i = 0; i < 5; i++) {
          samples.push(system.memory().rss);
          await sleep(100);
        }
        return median(samples);
      };
      const rawRssMb = await sample();
      system.collectGarbage();
      await sleep(500);
      const rssMb = await sample();
      let reloadMs: number | string | undefined;
      if (reload) {
        const [added] = makeTokens(1, run, bots);
        await fakes.addBots([added as string]);
        const cursor = await callCursor(fakes);
        const writtenAt = await system.rewriteConfig([...tokens, added as string]);
        try {
          const seen = await waitForPolling(fakes, system, [added as string], cursor, RELOAD_WAIT_MS);
          reloadMs = (seen.get(added as string) as number) - (writtenAt + fakes.clockOffsetMs);
        } catch {
          // Reported in the table as a miss; the message names the wait.
          reloadMs = `not polling within ${RELOAD_WAIT_MS / 1000} s`;
        }
      }
      return { bots, pollingMs, firstCallMs, rssMb, rawRssMb, ...(reloadMs !== undefined && { reloadMs }) };
    } finally {
      await system.stop();
    }
  } finally {
    await fakes.stop();
  }
}

/** Runs scenarios 4 and/or 5 (rows only for the ones selected). */
export async function fleetStart(ctx: ScenarioContext): Promise<ScenarioResult[]> {
  const { bots, settleMs } = ctx.options.sizes.fleet;
  const canReload = reloadAvailable();
  if (ctx.profileDir !== undefined) mkdirSync(ctx.profileDir, { recursive: true });
  const kinds: SystemKind[] = ctx.options.baseline ? ['botfleet', 'baseline'] : ['botfleet'];
  const results = new Map<SystemKind, { one: Launch; many: Launch }>();
  for (const kind of kinds) {
    ctx.progress(`4/5 memory and start: ${kind} with 1 bot, then ${bots} bots`);
    const one = await launch(kind, 1, settleMs, false);
    const profile = kind === 'botfleet' ? ctx.profileDir : undefined;
    const many = await launch(
      kind,
      bots,
      settleMs,
      kind === 'botfleet' && canReload && ctx.options.scenarios.has(5),
      profile,
    );
    results.set(kind, { one, many });
  }
  const fleet = results.get('botfleet') as { one: Launch; many: Launch };
  const base = results.get('baseline');
  const perBot = (r: { one: Launch; many: Launch }): number => (r.many.rssMb - r.one.rssMb) / Math.max(1, bots - 1);
  const memory = `4 memory (RSS idle)`;
  const start = `5 start (${bots} bots)`;
  const out: ScenarioResult[] = [];
  const rounded = (l: Launch): Launch => ({
    ...l,
    pollingMs: round(l.pollingMs, 1),
    firstCallMs: round(l.firstCallMs, 1),
    rssMb: round(l.rssMb, 1),
    rawRssMb: round(l.rawRssMb, 1),
    ...(typeof l.reloadMs === 'number' && { reloadMs: round(l.reloadMs, 1) }),
  });
  const details = Object.fromEntries(
    [...results].map(([kind, r]) => [kind, { one: rounded(r.one), many: rounded(r.many) }]),
  );
  if (ctx.options.scenarios.has(4)) {
    const limit = Math.round(RSS_BASE_MB + RSS_PER_BOT_MB * (bots - 1));
    const rows: Row[] = [
      row({
        scenario: memory,
        figure: 'RSS, 1 bot',
        unit: 'MB',
        digits: 0,
        botfleet: fleet.one.rssMb,
        baseline: base?.one.rssMb ?? null,
        goal: atMost(RSS_BASE_MB, `≤ ${RSS_BASE_MB} MB`),
      }),
      row({
        scenario: memory,
        figure: `RSS, ${bots} bots`,
        unit: 'MB',
        digits: 0,
        botfleet: fleet.many.rssMb,
        baseline: base?.many.rssMb ?? null,
        goal: atMost(limit, `≤ ${limit} MB`),
      }),
      row({
        scenario: memory,
        figure: 'RSS per extra bot',
        unit: 'MB',
        digits: 2,
        botfleet: perBot(fleet),
        baseline: base === undefined ? null : perBot(base),
        goal: atMost(RSS_PER_BOT_MB, `≤ ${RSS_PER_BOT_MB.toFixed(2)} MB`),
      }),
    ];
    const raw = (r: { one: Launch; many: Launch }): string =>
      `${r.one.rawRssMb.toFixed(0)} MB and ${r.many.rawRssMb.toFixed(0)} MB`;
    const notes = [
      `Scenario 4: resident memory (VmRSS, median of 5 samples) ${settleMs / 1000} s after every bot polled, before any message, right after a forced full garbage collection (the same settled state for both designs; before it: botfleet ${raw(fleet)}${base === undefined ? '' : `, baseline ${raw(base)}`}); SQLite storage.`,
    ];
    out.push({ id: 4, title: 'memory', rows, notes, details, charts: [], profiles: [] });
  }
  if (ctx.options.scenarios.has(5)) {
    const reload = fleet.many.reloadMs ?? (canReload ? 'not measured' : 'n/a (reload not available)');
    const rows: Row[] = [
      row({
        scenario: start,
        figure: `launch → all ${bots} bots polling`,
        unit: 'ms',
        digits: 0,
        botfleet: fleet.many.pollingMs,
        baseline: base?.many.pollingMs ?? null,
        goal: atMost(START_GOAL_MS, `≤ ${START_GOAL_MS / 1000} s`),
      }),
      row({
        scenario: start,
        figure: 'config saved with one more bot → it polls',
        unit: 'ms',
        digits: 0,
        botfleet: reload,
        baseline: base === undefined ? null : 'n/a (restart)',
        goal: atMost(START_GOAL_MS, `≤ ${START_GOAL_MS / 1000} s`),
        ...(typeof reload === 'string' && canReload && { met: false }),
      }),
    ];
    const notes = [
      `Scenario 5: launch is timed from spawning the process to the fake Bot API receiving the first getUpdates of the last bot (1 bot: botfleet ${fleet.one.pollingMs.toFixed(0)} ms${base === undefined ? '' : `, baseline ${base.one.pollingMs.toFixed(0)} ms`}); the reload from renaming the new bots.yaml into place to the new bot's first getUpdates.`,
      `Scenario 5: of botfleet's ${fleet.many.pollingMs.toFixed(0)} ms to ${bots} bots polling, ${fleet.many.firstCallMs.toFixed(0)} ms pass before its first Bot API call (Node start, module loading, config, storage) and ${(fleet.many.pollingMs - fleet.many.firstCallMs).toFixed(0)} ms in getMe, deleteWebhook, setMyCommands and the first getUpdates of every bot${base === undefined ? '' : `; the baseline: ${base.many.firstCallMs.toFixed(0)} ms and ${(base.many.pollingMs - base.many.firstCallMs).toFixed(0)} ms`}.`,
    ];
    const profiles =
      ctx.profileDir === undefined
        ? []
        : [
            formatProfile(
              `Scenario 5, botfleet launching ${bots} bots (whole life: start, idle, reload, stop)`,
              summariseProfile(join(ctx.profileDir, `start-botfleet-${bots}.cpuprofile`)),
            ),
          ];
    out.push({ id: 5, title: 'start', rows, notes, details, charts: [], profiles });
  }
  return out;
}
