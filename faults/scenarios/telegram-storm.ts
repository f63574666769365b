/**
 * Telegram storms, one bot per kind, all at once, while two users per bot keep writing:
 * 429s with retry_after on every method, 5xx bursts, 409 Conflict on getUpdates, connections
 * reset mid-getUpdates. Then the storm ends and every message must be answered.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atMost, type Context, info, type Row, type ScenarioResult, sleep, waitUntil } from '../lib/context.js';
import { echo, REPLIES_YAML, requestsWith } from '../lib/conversation.js';
import { type Call, startFakes } from '../lib/fakes.js';
import { type FleetSpec, fleetEnv, fleetYaml, startFleet } from '../lib/fleet.js';
import { callCursor, waitForCall } from '../lib/polling.js';
import { newApiKey, newToken } from '../lib/secrets.js';

interface Storm {
  readonly name: string;
  /** failNext rules: [method, failure]. */
  readonly rules: readonly [string, Record<string, unknown>][];
  readonly retryAfter?: number;
  /** Whether getUpdates fails throughout (its rate is then judged). */
  readonly pollingFails: boolean;
}

const STORMS: readonly Storm[] = [
  {
    name: '429 with retry_after 3 on every method',
    rules: [['*', { status: 429, retryAfter: 3, times: null }]],
    retryAfter: 3,
    pollingFails: true,
  },
  {
    name: '5xx bursts (502 on getUpdates, 500 on sendChatAction, 3 × 502 on sendMessage)',
    rules: [
      ['getUpdates', { status: 502, rawBody: '<html>502 Bad Gateway</html>', times: null }],
      ['sendChatAction', { status: 500, times: null }],
      ['sendMessage', { status: 502, times: 3 }],
    ],
    pollingFails: true,
  },
  { name: '409 Conflict on getUpdates', rules: [['getUpdates', { status: 409, times: null }]], pollingFails: true },
  {
    name: 'connection reset mid-getUpdates',
    rules: [['getUpdates', { status: 0, dropConnection: true, times: null }]],
    pollingFails: true,
  },
];

/** Users per bot; each writes every WRITE_EVERY_MS, so no conversation has more than
 * maxWaitingPerConversation (10) messages waiting when polling comes back. */
const USERS = [8001, 8002, 8003, 8004, 8005, 8006];
const WRITE_EVERY_MS = 7000;

export async function telegramStorm(ctx: Context): Promise<ScenarioResult> {
  const scenario = 'Telegram storms';
  const stormMs = ctx.quick ? 4000 : 60_000;
  const fakes = await startFakes({ modelMs: 10 });
  const dir = await mkdtemp(join(tmpdir(), 'botfleet-faults-telegram-'));
  const tokens = STORMS.map((_, i) => newToken(7_400_001 + i));
  for (const token of tokens) await fakes.addBot(token);
  const spec: FleetSpec = {
    storageUrl: 'sqlite://data/faults.sqlite',
    namespace: 'faults',
    apiRoot: fakes.apiRoot,
    baseUrl: fakes.baseUrl,
    apiKey: newApiKey(),
    bots: tokens.map((token, i) => ({ id: `t${i}`, token })),
    users: USERS,
    defaults: [REPLIES_YAML, `telegram: { apiRoot: "${fakes.apiRoot}" }`],
  };
  await writeFile(join(dir, 'bots.yaml'), fleetYaml(spec));
  const since = await callCursor(fakes);
  const fleet = startFleet(dir, fleetEnv(spec), { label: scenario });
  let crashes = 0;
  try {
    await Promise.all(tokens.map((t) => waitForCall(fakes, t, 'getUpdates', since)));
    await sleep(500);
    const sentTexts = tokens.map(() => [] as string[]);
    const stormStart = Date.now();
    for (const [i, storm] of STORMS.entries()) {
      for (const [method, failure] of storm.rules)
        await fakes.telegram('/__fake/failNext', { token: tokens[i], method, ...failure });
    }
    let writing = true;
    const writers = tokens.flatMap((token, i) =>
      USERS.map(async (user) => {
        for (let n = 1; writing; n++) {
          const text = `T${i}-${user}-${n}Z`;
          await fakes.say(token, user, text);
          sentTexts[i]?.push(text);
          if (n === 2) await fakes.say(token, 990_004, `OUTSIDER storm ${i}`);
          await sleep(WRITE_EVERY_MS);
        }
      }),
    );
    await sleep(stormMs);
    const stormEnd = Date.now();
    for (const token of tokens) await fakes.telegram('/__fake/clearFailures', { token });
    await sleep(2000);
    writing = false;
    await Promise.all(writers);
    // Everything answered, or 90 s (a poller sleeping out a long backoff comes back by then).
    const handled = async (i: number): Promise<Set<string>> => {
      const calls = await fakes.calls(tokens[i] as string, 'sendMessage');
      return new Set(calls.map((c) => String(c.params.text ?? '')));
    };
    await waitUntil(
      async () => {
        for (const [i, texts] of sentTexts.entries()) {
          const seen = await handled(i);
          if (!texts.every((t) => seen.has(echo(t)))) return false;
        }
        return true;
      },
      90_000,
      'every message to be answered after the storm',
    ).catch(() => undefined);
    if (fleet.child.exitCode !== null) crashes++;
    const exit = await fleet.stop();
    if (exit.code !== 0) crashes++;
    const rows: Row[] = [];
    let early = 0;
    let maxRate = 0;
    let lost = 0;
    for (const [i, storm] of STORMS.entries()) {
      const calls = await fakes.calls(tokens[i] as string);
      if (storm.retryAfter !== undefined) early += earlyCalls(calls, storm.retryAfter);
      const polls = calls.filter((c) => c.method === 'getUpdates' && c.wallAt >= stormStart && c.wallAt <= stormEnd);
      const rate = polls.length / ((stormEnd - stormStart) / 1000);
      maxRate = Math.max(maxRate, rate);
      const seen = await handled(i);
      const missing = (sentTexts[i] ?? []).filter((t) => !seen.has(echo(t))).length;
      lost += missing;
      rows.push(
        info(
          scenario,
          `${storm.name}: getUpdates calls while failing, messages handled`,
          `${polls.length} in ${((stormEnd - stormStart) / 1000).toFixed(0)} s (${rate.toFixed(2)}/s), ${(sentTexts[i]?.length ?? 0) - missing} of ${sentTexts[i]?.length ?? 0}`,
        ),
      );
    }
    rows.push(
      atMost(scenario, 'requests sent earlier than retry_after allows (same method and chat)', early, 0),
      atMost(scenario, 'getUpdates per second while failing (worst storm)', maxRate, 1),
      atMost(scenario, 'updates lost (a user message never handled after the storm)', lost, 0),
      atMost(scenario, 'process crashes', crashes, 0),
    );
    const requests = await fakes.requests();
    return {
      rows,
      notes: [
        `${scenario}: each storm lasted ${(stormMs / 1000).toFixed(0)} s on its own bot; ${USERS.length} users per bot wrote every ${WRITE_EVERY_MS / 1000} s (fewer than 10 waiting per conversation, the default maxWaitingPerConversation). A message counts as handled when a sendMessage carrying its answer reached the fake (a 5xx on sendMessage is not resent by design: the user may miss that reply, the update was still handled).`,
      ],
      outsiderModelCalls: requestsWith(requests, 'OUTSIDER'),
      crashes,
    };
  } finally {
    await fleet.stop();
    await fakes.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Calls made sooner than `retryAfter` s after a 429 answer to a call of the same method and
 * chat (getUpdates: the same method). */
function earlyCalls(calls: readonly Call[], retryAfter: number): number {
  const key = (c: Call): string => `${c.method}\n${String(c.params.chat_id ?? '')}`;
  const blockedUntil = new Map<string, number>();
  let early = 0;
  for (const call of [...calls].sort((a, b) => a.at - b.at)) {
    const until = blockedUntil.get(key(call));
    if (until !== undefined && call.at < until - 5) early++;
    if (call.outcome?.status === 429) blockedUntil.set(key(call), call.outcome.answeredAt + retryAfter * 1000);
  }
  return early;
}
