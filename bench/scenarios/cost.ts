/**
 * Scenario 6, cost: one long conversation (200 turns of messages of 150 to 450 words) with the
 * default window (20 turns, 8,000 tokens). botfleet keeps each request within the token budget;
 * the seed's design trims by turns only, so its requests grow with the messages' length.
 * Tokens are counted like botfleet's window does (o200k_base plus 3 per message and 3 per
 * request), on the request bodies the fake model received.
 */
import { performance } from 'node:perf_hooks';
import { encode } from 'gpt-tokenizer';
import { lineChart } from '../lib/chart.js';
import { startFakes } from '../lib/fakes.js';
import { callCursor, waitForPolling } from '../lib/polling.js';
import { modelRequests } from '../lib/records.js';
import { atMost, type Row, row } from '../lib/report.js';
import { DEFAULT_WINDOW, makeTokens, type SystemKind, startSystem } from '../lib/sut.js';
import type { ScenarioContext, ScenarioResult } from './context.js';

const ID = 6;
const TITLE = 'cost';
const WORDS = (
  'the a of to and in that it is was for on are as with his they at be this from have or by one had not but what all were when we there can an your ' +
  'which their said if do will each about how up out them then she many some so these would other into has more her two like him see time could no ' +
  'make than first been its who now people my made over did down only way find use may water long little very after words called just where most know'
).split(' ');
const ENCODE_OPTIONS = { disallowedSpecial: new Set<string>() };

/** Message `k` of the conversation: a unique tag, then 150–450 words. */
export function longText(k: number): string {
  const count = 150 + ((k * 97) % 301);
  const words = Array.from({ length: count }, (_, i) => WORDS[(k * 31 + i * 7 + ((i * i) % 13)) % WORDS.length]);
  return `t${k} ${words.join(' ')}.`;
}

/** Tokens of a request body as botfleet's window counts them. */
export function requestTokens(body: Record<string, unknown> | undefined): number {
  const messages = (body?.messages ?? []) as { content?: unknown }[];
  return messages.reduce(
    (sum, m) => sum + 3 + encode(typeof m.content === 'string' ? m.content : '', ENCODE_OPTIONS).length,
    3,
  );
}

async function conversation(
  kind: SystemKind,
  turns: number,
  run: string,
): Promise<{ tokens: number[]; answered: number }> {
  const fakes = await startFakes({ recordGetUpdates: true });
  const [token] = makeTokens(1, run) as [string];
  try {
    await fakes.addBots([token]);
    const since = await callCursor(fakes);
    const system = await startSystem({ kind, fakes, tokens: [token], storage: 'sqlite' });
    try {
      await waitForPolling(fakes, system, [token], since, 30_000);
      const requestsSince = (await fakes.openai<{ nextSeq: number }>('/__fake/info')).nextSeq;
      let cursor = await callCursor(fakes);
      let answered = 0;
      for (let k = 0; k < turns; k++) {
        await fakes.telegram('/__fake/sendText', { token, chatId: 4242, userId: 4242, text: longText(k) });
        const deadline = performance.now() + 10_000;
        let replied = false;
        while (!replied && performance.now() < deadline) {
          const { calls, next } = await fakes.telegram<{ calls: unknown[]; next: number }>(
            `/__fake/calls?since=${cursor}&method=sendMessage&wait=1000`,
          );
          cursor = next;
          replied = calls.length > 0;
        }
        if (!replied) break;
        answered++;
      }
      const requests = await modelRequests(fakes, requestsSince);
      return { tokens: requests.map((r) => requestTokens(r.body)), answered };
    } finally {
      await system.stop();
    }
  } finally {
    await fakes.stop();
  }
}

/** Runs scenario 6. */
export async function cost(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { turns } = ctx.options.sizes.cost;
  const budget = DEFAULT_WINDOW.maxTokens;
  const kinds: SystemKind[] = ctx.options.baseline ? ['botfleet', 'baseline'] : ['botfleet'];
  const runs = new Map<SystemKind, { tokens: number[]; answered: number }>();
  for (const kind of kinds) {
    ctx.progress(`6 ${TITLE}: ${kind}, a ${turns}-turn conversation`);
    runs.set(kind, await conversation(kind, turns, `${process.pid}c${kind}`));
  }
  const fleet = runs.get('botfleet') as { tokens: number[]; answered: number };
  const base = runs.get('baseline');
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  const s = `6 ${TITLE} (${turns} turns, window ${DEFAULT_WINDOW.maxTurns} turns / ${budget} tokens)`;
  const rows: Row[] = [
    row({
      scenario: s,
      figure: 'tokens per request, max',
      unit: '',
      digits: 0,
      botfleet: Math.max(...fleet.tokens),
      baseline: base === undefined ? null : Math.max(...base.tokens),
      goal: atMost(budget, `≤ ${budget} (maxTokens)`),
    }),
    row({
      scenario: s,
      figure: 'tokens per request, mean',
      unit: '',
      digits: 0,
      botfleet: sum(fleet.tokens) / fleet.tokens.length,
      baseline: base === undefined ? null : sum(base.tokens) / base.tokens.length,
    }),
    row({
      scenario: s,
      figure: `tokens sent in all ${turns} requests`,
      unit: '',
      digits: 0,
      botfleet: sum(fleet.tokens),
      baseline: base === undefined ? null : sum(base.tokens),
    }),
  ];
  const notes = [
    `Scenario 6: ${fleet.answered} of ${turns} turns answered by botfleet${base === undefined ? '' : `, ${base.answered} by the baseline`}; user messages of 150–450 words, echoed back by the fake model, so a turn is about 2 × 200–600 tokens.`,
  ];
  const svg = lineChart({
    title: `Tokens per model request over a ${turns}-turn conversation`,
    xLabel: 'turn',
    yLabel: 'tokens in the request',
    guide: { y: budget, label: `window.maxTokens = ${budget}` },
    series: [
      {
        name: 'botfleet (turns and tokens)',
        color: '#2a7ab9',
        points: fleet.tokens.map((t, i) => [i + 1, t] as const),
      },
      ...(base === undefined
        ? []
        : [
            { name: 'baseline (turns only)', color: '#d9822b', points: base.tokens.map((t, i) => [i + 1, t] as const) },
          ]),
    ],
  });
  return {
    id: ID,
    title: TITLE,
    rows,
    notes,
    details: { turns, budget, botfleet: fleet, ...(base !== undefined && { baseline: base }) },
    charts: [{ name: 'tokens-per-request', alt: 'Tokens per model request over a long conversation', svg }],
    profiles: [],
  };
}
