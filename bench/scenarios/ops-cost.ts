/** Scenario 7, the ops server's cost: the same open-loop load twice in one run, the `server`
 * off (nothing measured), then on (every message counted, /metrics scraped every second),
 * compared by botfleet's added latency. Goal: no measurable difference, under 0.1 ms. */
import { createServer } from 'node:net';
import { runLoad } from '../lib/load-run.js';
import { atMost, type Row, row } from '../lib/report.js';
import { cpuNote, loadDetails, type ScenarioContext, type ScenarioResult } from './context.js';

const ID = 7;
const TITLE = 'ops cost';
const GOAL_MS = 0.1;

/** A TCP port free on 127.0.0.1 now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Runs scenario 7. */
export async function opsCost(ctx: ScenarioContext): Promise<ScenarioResult> {
  const size = ctx.options.sizes.opsCost;
  const spec = {
    kind: 'botfleet' as const,
    storage: 'sqlite' as const,
    bots: size.bots,
    chatsPerBot: size.chatsPerBot,
    modelMs: size.modelMs,
    shape: 'open' as const,
    ratePerBot: size.ratePerBot,
    warmupMs: size.warmupMs,
    measureMs: size.measureMs,
  };
  const what = `${size.bots} bots × ${size.ratePerBot} messages/s, model ${size.modelMs} ms`;
  ctx.progress(`7 ${TITLE}: server off, ${what}, ${size.measureMs / 1000} s`);
  const off = await runLoad({ ...spec, label: 'ops-off' });
  ctx.progress(`7 ${TITLE}: server on, /metrics scraped every second`);
  const on = await runLoad({ ...spec, label: 'ops-on', serverPort: await freePort() });
  const s = `7 ${TITLE} (${what})`;
  const rows: Row[] = (['p50', 'p99'] as const).flatMap((p) => [
    row({ scenario: s, figure: `added latency ${p}, server off`, unit: 'ms', botfleet: off.added[p], baseline: null }),
    row({ scenario: s, figure: `added latency ${p}, server on`, unit: 'ms', botfleet: on.added[p], baseline: null }),
    row({
      scenario: s,
      figure: `added latency ${p}, on minus off`,
      unit: 'ms',
      digits: 2,
      botfleet: on.added[p] - off.added[p],
      baseline: null,
      goal: atMost(GOAL_MS, `≤ ${GOAL_MS} ms`),
    }),
  ]);
  return {
    id: ID,
    title: TITLE,
    rows,
    notes: [
      `Scenario 7 runs the same load twice, one after the other; a difference within the run-to-run noise of the p99 means no measurable cost.`,
      cpuNote('Scenario 7, server off', off),
      cpuNote('Scenario 7, server on', on),
    ],
    details: { off: loadDetails(off), on: loadDetails(on) },
    charts: [],
    profiles: [],
  };
}
