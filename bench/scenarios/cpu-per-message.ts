/**
 * Scenario 9, CPU per answered message (issue 15's closed loop): 1 bot, 20 chats each sending
 * its next message when the last was answered, a model that answers at once, streaming off.
 * The figure is the bot process's CPU time (user + system, from /proc) in the measurement
 * window divided by the replies sent in it, so other work on the machine does not count. Run
 * for SQLite, Redis and memory://, once more with streaming on (edit), and for the seed-style
 * baseline (SQLite).
 */
import { type LoadSummary, runLoad } from '../lib/load-run.js';
import { atMost, type Row, row } from '../lib/report.js';
import type { StorageKind } from '../lib/sut.js';
import { cpuNote, loadDetails, profileOf, type ScenarioContext, type ScenarioResult } from './context.js';

const ID = 9;
const TITLE = 'CPU per message';
/** Issue 15's goal: at most this many ms of CPU per answered message (SQLite, streaming off). */
const GOAL_MS = 1.0;

interface Variant {
  readonly key: string;
  readonly label: string;
  readonly storage: StorageKind;
  readonly streaming: 'off' | 'edit';
  readonly goal: boolean;
}

const VARIANTS: readonly Variant[] = [
  { key: 'sqlite', label: 'SQLite, streaming off', storage: 'sqlite', streaming: 'off', goal: true },
  { key: 'redis', label: 'Redis, streaming off', storage: 'redis', streaming: 'off', goal: false },
  { key: 'memory', label: 'memory://, streaming off', storage: 'memory', streaming: 'off', goal: false },
  { key: 'sqlite-edit', label: 'SQLite, streaming edit', storage: 'sqlite', streaming: 'edit', goal: false },
];

/** CPU ms per answered message of a run. */
const cpuMs = (s: LoadSummary): number => s.cpuSecondsPer1000;

/** Runs scenario 9. */
export async function cpuPerMessage(ctx: ScenarioContext): Promise<ScenarioResult> {
  const size = ctx.options.sizes.cpuPerMessage;
  const common = {
    bots: 1,
    chatsPerBot: size.chats,
    modelMs: 0,
    shape: 'closed' as const,
    warmupMs: size.warmupMs,
    measureMs: size.measureMs,
  };
  const s = `9 ${TITLE} (1 bot, ${size.chats} chats closed loop, model 0 ms)`;
  const rows: Row[] = [];
  const notes: string[] = [];
  const details: Record<string, unknown> = {};
  const profiles: string[] = [];
  let base: LoadSummary | undefined;
  if (ctx.options.baseline) {
    ctx.progress(`9 ${TITLE}: baseline, SQLite`);
    base = await runLoad({ ...common, kind: 'baseline', storage: 'sqlite', label: 'cpu-baseline' });
    details.baseline = loadDetails(base);
    notes.push(cpuNote('Scenario 9, baseline (SQLite)', base));
  }
  for (const v of VARIANTS) {
    if (v.storage === 'redis' && !ctx.redis) {
      notes.push(`Scenario 9: no Redis at 127.0.0.1:6379, the Redis variant was skipped.`);
      continue;
    }
    ctx.progress(`9 ${TITLE}: botfleet, ${v.label}, ${common.measureMs / 1000} s`);
    const fleet = await runLoad({
      ...common,
      kind: 'botfleet',
      storage: v.storage,
      defaults: [`streaming: ${v.streaming}`],
      label: `cpu-${v.key}`,
      ...(ctx.profileDir !== undefined && { profileDir: ctx.profileDir }),
    });
    const compared = v.storage === 'sqlite' && v.streaming === 'off' ? base : undefined;
    rows.push(
      row({
        scenario: s,
        figure: `CPU per answered message, ${v.label}`,
        unit: 'ms',
        digits: 2,
        botfleet: cpuMs(fleet),
        baseline: compared === undefined ? null : cpuMs(compared),
        ...(v.goal && { goal: atMost(GOAL_MS, `≤ ${GOAL_MS.toFixed(1)} ms`) }),
      }),
      row({
        scenario: s,
        figure: `messages/s, ${v.label}`,
        unit: '',
        digits: 0,
        botfleet: fleet.messagesPerSecond,
        baseline: compared?.messagesPerSecond ?? null,
      }),
    );
    notes.push(cpuNote(`Scenario 9, botfleet (${v.label})`, fleet));
    details[v.key] = loadDetails(fleet);
    profiles.push(...profileOf(`Scenario 9, botfleet (${v.label})`, fleet));
  }
  notes.push(
    'Scenario 9: CPU is the process time (user + system) of the bot process only, over the measurement window, divided by the replies sent in it; the machine’s other load does not count, but a busy machine still slows caches and the scheduler.',
  );
  return { id: ID, title: TITLE, rows, notes, details, charts: [], profiles };
}
