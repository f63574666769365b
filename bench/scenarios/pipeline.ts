/** Scenario 1, the pipeline limit: 1 bot, many chats, a model that answers at once, each chat
 * sending its next message as soon as the reply arrives. */
import { type LoadSummary, runLoad } from '../lib/load-run.js';
import { type Row, row } from '../lib/report.js';
import { cpuNote, loadDetails, profileOf, type ScenarioContext, type ScenarioResult } from './context.js';

const ID = 1;
const TITLE = 'pipeline limit';

/** Runs scenario 1. */
export async function pipelineLimit(ctx: ScenarioContext): Promise<ScenarioResult> {
  const size = ctx.options.sizes.pipeline;
  const spec = {
    storage: 'sqlite' as const,
    bots: 1,
    chatsPerBot: size.chats,
    modelMs: size.modelMs,
    shape: 'closed' as const,
    warmupMs: size.warmupMs,
    measureMs: size.measureMs,
  };
  ctx.progress(
    `1 ${TITLE}: botfleet, 1 bot, ${size.chats} chats, model ${size.modelMs} ms, ${size.measureMs / 1000} s`,
  );
  const fleet = await runLoad({
    ...spec,
    kind: 'botfleet',
    label: 'pipeline-botfleet',
    ...(ctx.profileDir !== undefined && { profileDir: ctx.profileDir }),
  });
  let base: LoadSummary | undefined;
  if (ctx.options.baseline && size.baseline) {
    ctx.progress(`1 ${TITLE}: baseline`);
    base = await runLoad({ ...spec, kind: 'baseline', label: 'pipeline-baseline' });
  }
  const s = `1 ${TITLE} (1 bot, ${size.chats} chats, model ${size.modelMs} ms)`;
  const rows: Row[] = [
    row({
      scenario: s,
      figure: 'messages/s',
      unit: '',
      digits: 0,
      botfleet: fleet.messagesPerSecond,
      baseline: base?.messagesPerSecond ?? null,
    }),
    ...(['p50', 'p95', 'p99'] as const).map((p) =>
      row({
        scenario: s,
        figure: `added latency ${p} (at saturation)`,
        unit: 'ms',
        botfleet: fleet.added[p],
        baseline: base?.added[p] ?? null,
      }),
    ),
    row({
      scenario: s,
      figure: 'CPU seconds per 1,000 messages',
      unit: 's',
      digits: 2,
      botfleet: fleet.cpuSecondsPer1000,
      baseline: base?.cpuSecondsPer1000 ?? null,
    }),
  ];
  const notes = [
    `Scenario 1 is a closed loop: every chat has one message outstanding, so the latency figures are queueing at saturation, not a goal.`,
    cpuNote('Scenario 1, botfleet', fleet),
    ...(base === undefined ? [] : [cpuNote('Scenario 1, baseline', base)]),
  ];
  return {
    id: ID,
    title: TITLE,
    rows,
    notes,
    details: { botfleet: loadDetails(fleet), ...(base !== undefined && { baseline: loadDetails(base) }) },
    charts: [],
    profiles: profileOf('Scenario 1, botfleet', fleet),
  };
}
