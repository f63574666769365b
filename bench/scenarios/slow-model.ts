/** Scenario 3, a slow model: 1 bot, many chats, a model that takes a second. botfleet answers
 * the chats concurrently; the seed's design answers one update at a time. */
import { type LoadSummary, runLoad } from '../lib/load-run.js';
import { type Row, ratioAtLeast, row } from '../lib/report.js';
import { cpuNote, loadDetails, type ScenarioContext, type ScenarioResult } from './context.js';

const ID = 3;
const TITLE = 'slow model';
const GOAL_RATIO = 50;

/** Runs scenario 3. */
export async function slowModel(ctx: ScenarioContext): Promise<ScenarioResult> {
  const size = ctx.options.sizes.slowModel;
  // The chats start spread over one model latency, as real chats would be, not in lockstep.
  const spec = {
    storage: 'sqlite' as const,
    bots: 1,
    chatsPerBot: size.chats,
    modelMs: size.modelMs,
    shape: 'closed' as const,
    warmupMs: size.warmupMs,
    measureMs: size.measureMs,
    staggerMs: size.modelMs,
  };
  ctx.progress(
    `3 ${TITLE}: botfleet, 1 bot, ${size.chats} chats, model ${size.modelMs} ms, ${size.measureMs / 1000} s`,
  );
  const fleet = await runLoad({ ...spec, kind: 'botfleet', label: 'slow-model-botfleet' });
  let base: LoadSummary | undefined;
  if (ctx.options.baseline) {
    ctx.progress(`3 ${TITLE}: baseline`);
    base = await runLoad({ ...spec, kind: 'baseline', label: 'slow-model-baseline' });
  }
  const s = `3 ${TITLE} (1 bot, ${size.chats} chats, model ${size.modelMs} ms)`;
  const ideal = (size.chats * 1000) / size.modelMs;
  const rows: Row[] = [
    row({
      scenario: s,
      figure: 'messages/s',
      unit: '',
      digits: 1,
      botfleet: fleet.messagesPerSecond,
      baseline: base?.messagesPerSecond ?? null,
      goal: ratioAtLeast(GOAL_RATIO, `ratio ≥ ${GOAL_RATIO}×`),
    }),
    row({
      scenario: s,
      figure: 'added latency p99',
      unit: 'ms',
      botfleet: fleet.added.p99,
      baseline: base?.added.p99 ?? null,
    }),
  ];
  const notes = [
    `Scenario 3: with ${size.chats} chats and a ${size.modelMs} ms model the most any design can answer is ${ideal.toFixed(0)} messages/s; botfleet reached ${((100 * fleet.messagesPerSecond) / ideal).toFixed(1)}% of it.`,
    cpuNote('Scenario 3, botfleet', fleet),
    ...(base === undefined ? [] : [cpuNote('Scenario 3, baseline', base)]),
  ];
  return {
    id: ID,
    title: TITLE,
    rows,
    notes,
    details: { botfleet: loadDetails(fleet), ...(base !== undefined && { baseline: loadDetails(base) }) },
    charts: [],
    profiles: [],
  };
}
