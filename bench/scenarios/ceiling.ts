/**
 * Scenario 2, the Telegram ceiling: many bots, each receiving messages at Telegram's limit of
 * about 30 messages/s per bot (every chat at 1 message/s), a model that takes 50 ms, on SQLite
 * and on Redis. Also a sweep of lower rates for the latency-vs-load chart.
 */
import { lineChart } from '../lib/chart.js';
import { type LoadSpec, type LoadSummary, runLoad } from '../lib/load-run.js';
import { atLeast, atMost, type Row, row } from '../lib/report.js';
import type { StorageKind } from '../lib/sut.js';
import {
  type Chart,
  cpuNote,
  loadDetails,
  profileOf,
  round,
  type ScenarioContext,
  type ScenarioResult,
} from './context.js';

const ID = 2;
/** Issue 15: peak RSS under overload at most 2× idle; idle with 50 bots is to be ≤ 100 MB. */
const PEAK_RSS_GOAL_MB = 200;
const TITLE = 'Telegram ceiling';
/** The goal on added latency p99, ms. */
const GOAL_P99_MS = 5;
const STORAGE_NAME: Record<StorageKind, string> = { sqlite: 'SQLite', redis: 'Redis', memory: 'memory' };

function chart(points: readonly LoadSummary[]): Chart {
  const sorted = [...points].sort(
    (a, b) => a.spec.bots * (a.spec.ratePerBot ?? 0) - b.spec.bots * (b.spec.ratePerBot ?? 0),
  );
  const x = (s: LoadSummary): number => s.spec.bots * (s.spec.ratePerBot ?? 0);
  const bots = sorted[0]?.spec.bots ?? 0;
  return {
    name: 'latency-vs-load',
    alt: 'Added latency against offered load',
    svg: lineChart({
      title: `botfleet added latency vs offered load (${bots} bots, model ${sorted[0]?.spec.modelMs ?? 0} ms, SQLite)`,
      xLabel: 'offered load, messages/s, all bots together (log scale)',
      yLabel: 'added latency, ms (log scale)',
      logY: true,
      logX: true,
      guide: { y: GOAL_P99_MS, label: `goal: p99 ≤ ${GOAL_P99_MS} ms` },
      series: [
        { name: 'p50, from hand-out', color: '#2a7ab9', points: sorted.map((s) => [x(s), s.added.p50] as const) },
        { name: 'p99, from hand-out', color: '#d9822b', points: sorted.map((s) => [x(s), s.added.p99] as const) },
        {
          name: 'p99, from the user’s send (incl. waiting for a poll)',
          color: '#8e44ad',
          points: sorted.map((s) => [x(s), s.addedFromSend.p99] as const),
        },
      ],
    }),
  };
}

/** Runs scenario 2. */
export async function telegramCeiling(ctx: ScenarioContext): Promise<ScenarioResult> {
  const size = ctx.options.sizes.ceiling;
  const chatsPerBot = size.chatsPerBot ?? Math.max(1, Math.round(size.ratePerBot));
  const base: Omit<LoadSpec, 'kind' | 'storage' | 'label'> = {
    bots: size.bots,
    chatsPerBot,
    modelMs: size.modelMs,
    shape: 'open',
    ratePerBot: size.ratePerBot,
    warmupMs: size.warmupMs,
    measureMs: size.measureMs,
    drainMs: size.drainMs,
  };
  const s = `2 ${TITLE} (${size.bots} bots × ${size.ratePerBot} msg/s, model ${size.modelMs} ms)`;
  const rows: Row[] = [];
  const notes: string[] = [];
  const details: Record<string, unknown> = {};
  const profiles: string[] = [];
  const main = new Map<StorageKind, LoadSummary>();
  for (const storage of size.storages) {
    const name = STORAGE_NAME[storage];
    if (storage === 'redis' && !ctx.redis) {
      rows.push(
        row({
          scenario: s,
          figure: `added latency p99, ${name}`,
          unit: 'ms',
          botfleet: 'n/a (no Redis at 127.0.0.1:6379)',
          goal: atMost(GOAL_P99_MS, `≤ ${GOAL_P99_MS} ms`),
        }),
      );
      continue;
    }
    ctx.progress(
      `2 ${TITLE}: botfleet on ${name}, ${size.bots} bots × ${size.ratePerBot} msg/s for ${size.measureMs / 1000} s`,
    );
    const label = `ceiling-${storage}-botfleet`;
    main.set(
      storage,
      await runLoad({
        ...base,
        kind: 'botfleet',
        storage,
        label,
        ...(ctx.profileDir !== undefined && { profileDir: ctx.profileDir }),
      }),
    );
  }
  // The baseline runs once, on the first storage (SQLite unless --storage redis).
  let baseline: LoadSummary | undefined;
  const baselineStorage = [...main.keys()][0];
  if (ctx.options.baseline && size.baseline && baselineStorage !== undefined) {
    ctx.progress(`2 ${TITLE}: baseline on ${STORAGE_NAME[baselineStorage]}`);
    baseline = await runLoad({
      ...base,
      kind: 'baseline',
      storage: baselineStorage,
      label: `ceiling-${baselineStorage}-baseline`,
    });
  }
  for (const [storage, fleet] of main) {
    const name = STORAGE_NAME[storage];
    const other = storage === baselineStorage ? baseline : undefined;
    const offered = size.bots * size.ratePerBot;
    rows.push(
      row({
        scenario: s,
        figure: `added latency p50, ${name}`,
        unit: 'ms',
        botfleet: fleet.added.p50,
        baseline: other?.added.p50 ?? null,
      }),
      row({
        scenario: s,
        figure: `added latency p99, ${name}`,
        unit: 'ms',
        botfleet: fleet.added.p99,
        baseline: other?.added.p99 ?? null,
        goal: atMost(GOAL_P99_MS, `≤ ${GOAL_P99_MS} ms`),
      }),
      row({
        scenario: s,
        figure: `added latency p99 from the user's send, ${name}`,
        unit: 'ms',
        botfleet: fleet.addedFromSend.p99,
        baseline: other?.addedFromSend.p99 ?? null,
      }),
      row({
        scenario: s,
        figure: `messages/s answered (${offered} offered), ${name}`,
        unit: '',
        digits: 0,
        botfleet: fleet.messagesPerSecond,
        baseline: other?.messagesPerSecond ?? null,
        goal: atLeast(0.99 * offered, 'keeps up (≥ 99% of offered)'),
      }),
      row({
        scenario: s,
        figure: `CPU seconds per 1,000 messages, ${name}`,
        unit: 's',
        digits: 2,
        botfleet: fleet.cpuSecondsPer1000,
        baseline: other?.cpuSecondsPer1000 ?? null,
      }),
      row({
        scenario: s,
        figure: `peak RSS, ${name}`,
        unit: 'MB',
        digits: 0,
        botfleet: fleet.peakRssMb,
        baseline: other?.peakRssMb ?? null,
        goal: atMost(PEAK_RSS_GOAL_MB, `≤ ${PEAK_RSS_GOAL_MB} MB (2× the idle goal of 50 bots)`),
      }),
    );
    notes.push(cpuNote(`Scenario 2, botfleet on ${name}`, fleet));
    if (fleet.unanswered > 0)
      notes.push(
        `Scenario 2, botfleet on ${name}: ${fleet.unanswered} of ${fleet.posted} messages were still unanswered ${size.drainMs / 1000} s after the load stopped.`,
      );
    details[`botfleet-${storage}`] = loadDetails(fleet);
    profiles.push(...profileOf(`Scenario 2, botfleet on ${name}`, fleet));
  }
  if (baseline !== undefined && baselineStorage !== undefined) {
    notes.push(cpuNote(`Scenario 2, baseline on ${STORAGE_NAME[baselineStorage]}`, baseline));
    if (baseline.unanswered > 0)
      notes.push(
        `Scenario 2, baseline: ${baseline.unanswered} of ${baseline.posted} messages unanswered ${size.drainMs / 1000} s after the load stopped.`,
      );
    details[`baseline-${baselineStorage}`] = loadDetails(baseline);
  }
  const sweep: LoadSummary[] = [];
  for (const rate of size.sweep.filter((r) => r < size.ratePerBot)) {
    ctx.progress(`2 ${TITLE}: sweep, botfleet on SQLite at ${rate} msg/s per bot`);
    const chats = size.chatsPerBot ?? Math.max(1, Math.round(rate));
    sweep.push(
      await runLoad({
        ...base,
        ratePerBot: rate,
        chatsPerBot: chats,
        measureMs: size.sweepMeasureMs,
        drainMs: Math.min(size.drainMs, 5000),
        kind: 'botfleet',
        storage: 'sqlite',
        label: `sweep-${rate}`,
      }),
    );
  }
  const mainSqlite = main.get('sqlite');
  const charts = sweep.length > 0 && mainSqlite !== undefined ? [chart([...sweep, mainSqlite])] : [];
  if (sweep.length > 0) {
    details.sweep = sweep.map((p) => ({
      offeredPerSecond: p.spec.bots * (p.spec.ratePerBot ?? 0),
      ...loadDetails(p),
    }));
    notes.push(
      `Scenario 2 sweep (SQLite, ${size.sweepMeasureMs / 1000} s each), offered msg/s → answered msg/s, added p50/p99 ms: ` +
        sweep
          .map(
            (p) =>
              `${p.spec.bots * (p.spec.ratePerBot ?? 0)} → ${p.messagesPerSecond.toFixed(0)}, ${round(p.added.p50, 1)}/${round(p.added.p99, 1)}`,
          )
          .join('; ') +
        '.',
    );
  }
  return { id: ID, title: TITLE, rows, notes, details, charts, profiles };
}
