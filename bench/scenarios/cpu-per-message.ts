/**
 * Scenario 9, CPU per answered message (issue 15's closed loop): 1 bot, 20 chats each sending
 * its next message when the last was answered, a model that answers at once, streaming off.
 * The figure is the bot process's CPU time (user + system, from /proc) in the measurement
 * window divided by the replies sent in it, so other work on the machine does not count. Run
 * for SQLite, Redis and memory://, once more with streaming on (edit), and for the seed-style
 * baseline (SQLite).
 *
 * "Flat with size" (issue 15): the SQLite and Redis runs again with 100,000 conversations (2,000
 * with --quick) written to the store before botfleet starts (bench/lib/prefill.ts), once with
 * chats that are not among them (the store is big, these conversations are new) and once with
 * chats that are (every read returns a conversation already holding turns); each run's CPU per
 * message over the plain run's (whose store holds just its own 20 chats) should stay ≤ 1.1×.
 */
import { type LoadSummary, runLoad } from '../lib/load-run.js';
import type { PrefillSpec } from '../lib/prefill.js';
import { atMost, type Row, row } from '../lib/report.js';
import { botId, type StorageKind } from '../lib/sut.js';
import { FIRST_CHAT_ID } from '../lib/traffic.js';
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
  /** Conversations stored before the start: among the loop's chats ("stored") or not ("new");
   * the figure is then compared with variant `plain`'s. */
  readonly prefill?: { readonly chats: 'stored' | 'new'; readonly plain: string };
}

/** Goal of "flat with size": CPU per message with a big store over the plain run's, at most. */
const FLAT_GOAL = 1.1;
/** Stored conversations of the size variants (full run, --quick). */
const STORED = 100_000;
const STORED_QUICK = 2_000;
/** Turns of each stored conversation. */
const STORED_TURNS = 5;

const VARIANTS: readonly Variant[] = [
  { key: 'sqlite', label: 'SQLite, streaming off', storage: 'sqlite', streaming: 'off', goal: true },
  { key: 'redis', label: 'Redis, streaming off', storage: 'redis', streaming: 'off', goal: false },
  { key: 'memory', label: 'memory://, streaming off', storage: 'memory', streaming: 'off', goal: false },
  { key: 'sqlite-edit', label: 'SQLite, streaming edit', storage: 'sqlite', streaming: 'edit', goal: false },
  ...(['sqlite', 'redis'] as const).flatMap((storage) =>
    (['new', 'stored'] as const).map(
      (chats): Variant => ({
        key: `${storage}-big-${chats}`,
        label: `${storage === 'sqlite' ? 'SQLite' : 'Redis'}, STORED stored conversations, the loop's chats ${chats === 'new' ? 'not among them' : 'among them'}`,
        storage,
        streaming: 'off',
        goal: false,
        prefill: { chats, plain: storage },
      }),
    ),
  ),
];

/** The conversations written before a size variant: the loop's chats are FIRST_CHAT_ID… of
 * bot 0, so "new" ones start far above them. */
function prefillOf(v: Variant, count: number): PrefillSpec | undefined {
  if (v.prefill === undefined) return undefined;
  const firstChatId = v.prefill.chats === 'stored' ? FIRST_CHAT_ID : FIRST_CHAT_ID + 10_000_000;
  return { count, botId: botId(0), firstChatId, turns: STORED_TURNS };
}

/** CPU ms per answered message of a run. */
const cpuMs = (s: LoadSummary): number => s.cpuSecondsPer1000;

/** The goal row of a size variant: its CPU per message over the plain run's. */
function flatRow(scenario: string, label: string, big: LoadSummary, plain: LoadSummary | undefined): Row {
  const ratio = plain === undefined ? null : cpuMs(big) / cpuMs(plain);
  const small = plain === undefined ? 'no plain run' : `${cpuMs(plain).toFixed(2)} ms with only its 20 chats stored`;
  return row({
    scenario,
    figure: `flat with size: CPU per message, ${label}, over the plain run's (${small})`,
    unit: '×',
    digits: 2,
    botfleet: ratio,
    goal: atMost(FLAT_GOAL, `≤ ${FLAT_GOAL.toFixed(1)}× (flat with size)`),
  });
}

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
  const stored = ctx.options.quick ? STORED_QUICK : STORED;
  const plainRuns = new Map<string, LoadSummary>();
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
    const label = v.label.replace('STORED', stored.toLocaleString('en-US'));
    const prefill = prefillOf(v, stored);
    ctx.progress(`9 ${TITLE}: botfleet, ${label}, ${common.measureMs / 1000} s`);
    const fleet = await runLoad({
      ...common,
      kind: 'botfleet',
      storage: v.storage,
      defaults: [`streaming: ${v.streaming}`],
      label: `cpu-${v.key}`,
      ...(prefill !== undefined && { prefill }),
      ...(ctx.profileDir !== undefined && { profileDir: ctx.profileDir }),
    });
    if (v.prefill === undefined) plainRuns.set(v.key, fleet);
    const plain = v.prefill === undefined ? undefined : plainRuns.get(v.prefill.plain);
    const compared = v.key === 'sqlite' ? base : undefined;
    rows.push(
      row({
        scenario: s,
        figure: `CPU per answered message, ${label}`,
        unit: 'ms',
        digits: 2,
        botfleet: cpuMs(fleet),
        baseline: compared === undefined ? null : cpuMs(compared),
        ...(v.goal && { goal: atMost(GOAL_MS, `≤ ${GOAL_MS.toFixed(1)} ms`) }),
      }),
      row({
        scenario: s,
        figure: `messages/s, ${label}`,
        unit: '',
        digits: 0,
        botfleet: fleet.messagesPerSecond,
        baseline: compared?.messagesPerSecond ?? null,
      }),
    );
    if (v.prefill !== undefined) rows.push(flatRow(s, label, fleet, plain));
    notes.push(cpuNote(`Scenario 9, botfleet (${label})`, fleet));
    details[v.key] = loadDetails(fleet);
    profiles.push(...profileOf(`Scenario 9, botfleet (${label})`, fleet));
  }
  notes.push(
    'Scenario 9: CPU is the process time (user + system) of the bot process only, over the measurement window, divided by the replies sent in it; the machine’s other load does not count, but a busy machine still slows caches and the scheduler.',
  );
  return { id: ID, title: TITLE, rows, notes, details, charts: [], profiles };
}
