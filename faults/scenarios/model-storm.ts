/**
 * Model storms: one bot per failure mode (each asks for a model of its own, so the fake fails
 * only its requests), three users each, all at once: 429 with and without retry-after, 500s,
 * requests that hang past the provider's timeout, malformed JSON, a stream that errors, one cut
 * halfway, one that just stops, and a reply of 1 MB.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atMost, type Context, info, type Row, type ScenarioResult } from '../lib/context.js';
import { type Exchange, exchange, REPLIES, REPLIES_YAML, requestsWith } from '../lib/conversation.js';
import { startFakes } from '../lib/fakes.js';
import { type FleetSpec, fleetEnv, fleetYaml, startFleet } from '../lib/fleet.js';
import { callCursor, waitForCall } from '../lib/polling.js';
import { newApiKey, newToken } from '../lib/secrets.js';

interface Mode {
  readonly name: string;
  readonly failure?: Record<string, unknown>;
  readonly reply?: string;
  readonly retryAfterSeconds?: number;
}

/** A reply of `bytes` characters of short words. */
const big = (bytes: number): string =>
  Array.from({ length: bytes / 3 }, (_, i) => `w${i % 1000}`)
    .join(' ')
    .slice(0, bytes);

const MODES: readonly Mode[] = [
  {
    name: '429 with retry-after 1 s (3 times)',
    failure: { status: 429, retryAfterSeconds: 1, times: 3 },
    retryAfterSeconds: 1,
  },
  {
    name: '429 with retry-after 2 s (always)',
    failure: { status: 429, retryAfterSeconds: 2, times: null },
    retryAfterSeconds: 2,
  },
  { name: '429 without retry-after (always)', failure: { status: 429, times: null } },
  { name: '500 (always)', failure: { status: 500, times: null } },
  { name: 'timeout: no answer (always)', failure: { kind: 'hang', times: null } },
  { name: 'malformed JSON (always)', failure: { kind: 'malformed', times: null } },
  {
    name: 'stream error event after a chunk',
    failure: { kind: 'stream-error', partialContent: 'Half an ', times: null },
  },
  { name: 'stream cut halfway (connection reset)', failure: { kind: 'cut', partialContent: 'Half an ', times: null } },
  {
    name: 'stream that stops halfway (no finish, no [DONE])',
    failure: { kind: 'truncated', partialContent: 'Half an ', times: null },
  },
  { name: 'reply of 1 MB (--quick: 64 kB), one user', reply: '' },
];

const USERS = [7001, 7002, 7003];

function answeredOrApologised(ex: Exchange, mode: Mode): boolean {
  if (mode.reply !== undefined) {
    const joined = ex.texts.join('').replace(/\s+/g, '');
    return joined === mode.reply.replace(/\s+/g, '') || ex.outcome === 'modelError' || ex.outcome === 'cutOff';
  }
  return ex.outcome === 'answer' || ex.outcome === 'modelError' || ex.outcome === 'cutOff';
}

export async function modelStorm(ctx: Context): Promise<ScenarioResult> {
  const scenario = 'model storms';
  const fakes = await startFakes({ modelMs: 10 });
  const dir = await mkdtemp(join(tmpdir(), 'botfleet-faults-model-'));
  const tokens = MODES.map((_, i) => newToken(7_300_001 + i));
  for (const token of tokens) await fakes.addBot(token);
  const spec: FleetSpec = {
    storageUrl: 'sqlite://data/faults.sqlite',
    namespace: 'faults',
    apiRoot: fakes.apiRoot,
    baseUrl: fakes.baseUrl,
    apiKey: newApiKey(),
    provider: ['maxRetries: 2', 'timeoutMs: 2000'],
    providers: [`big: { baseUrl: "${fakes.baseUrl}", apiKey: "\${FAULT_API_KEY}", timeoutMs: 120000 }`],
    bots: tokens.map((token, i) => ({
      id: `m${i}`,
      token,
      extra: `model: fault-${i}${MODES[i]?.reply === undefined ? '' : ', provider: big'}`,
    })),
    users: USERS,
    defaults: [REPLIES_YAML, `telegram: { apiRoot: "${fakes.apiRoot}" }`],
  };
  await writeFile(join(dir, 'bots.yaml'), fleetYaml(spec));
  for (const [i, mode] of MODES.entries()) {
    if (mode.failure !== undefined) await fakes.openai('/__fake/failNext', { ...mode.failure, model: `fault-${i}` });
  }
  const bigIndex = MODES.findIndex((m) => m.reply !== undefined);
  const since = await callCursor(fakes);
  const fleet = startFleet(dir, fleetEnv(spec), { label: scenario });
  let crashes = 0;
  try {
    await Promise.all(tokens.map((t) => waitForCall(fakes, t, 'getUpdates', since)));
    const storm = async (mode: Mode, i: number): Promise<{ mode: Mode; exchanges: Exchange[] }> => {
      const token = tokens[i] as string;
      const exchanges: Exchange[] = [];
      for (const user of ctx.quick || mode.reply !== undefined ? USERS.slice(0, 1) : USERS) {
        const ex = await exchange(fakes, token, user, `M${i}-${user}Z`, {
          timeoutMs: 600_000,
          settleMs: 500,
          ...(mode.reply !== undefined && {
            answered: (texts: readonly string[]) =>
              texts.join('').replace(/\s+/g, '') === (mode.reply as string).replace(/\s+/g, ''),
          }),
        });
        exchanges.push(ex);
      }
      await fakes.say(token, 990_003, `OUTSIDER model storm ${i}`);
      return { mode, exchanges };
    };
    // Every failure mode at once; then the 1 MB reply alone (a scripted reply is the fake's for
    // every request, whatever the model).
    const results = await Promise.all(MODES.map((mode, i) => (i === bigIndex ? undefined : storm(mode, i))));
    const bigMode = { ...(MODES[bigIndex] as Mode), reply: big(ctx.quick ? 1 << 16 : 1 << 20) };
    await fakes.openai('/__fake/reply', { reply: bigMode.reply });
    const bigStart = Date.now();
    results[bigIndex] = await storm(bigMode, bigIndex);
    const bigSeconds = (Date.now() - bigStart) / 1000;
    await fakes.openai('/__fake/reply', { reply: null });
    if (fleet.child.exitCode !== null) crashes++;
    const exit = await fleet.stop();
    if (exit.code !== 0) crashes++;
    const requests = await fakes.requests();
    // Requests sent again sooner than the retry-after of the 429 before them.
    let early = 0;
    let retried = 0;
    for (const [i, mode] of MODES.entries()) {
      if (mode.retryAfterSeconds === undefined) continue;
      const mine = requests.filter((r) => (r.body as { model?: string } | undefined)?.model === `fault-${i}`);
      for (let k = 1; k < mine.length; k++) {
        const before = mine[k - 1];
        const now = mine[k];
        if (before?.outcome?.status !== 429 || now === undefined) continue;
        const lastText = (r: typeof now): unknown => r.body?.messages?.at(-1)?.content;
        if (lastText(before) !== lastText(now)) continue;
        retried++;
        if (now.at - before.outcome.endedAt < mode.retryAfterSeconds * 1000 - 5) early++;
      }
    }
    const rows: Row[] = [];
    let without = 0;
    for (const { mode, exchanges } of results.filter((r) => r !== undefined)) {
      const bad = exchanges.filter((ex) => !answeredOrApologised(ex, mode));
      without += bad.length;
      rows.push(
        info(
          scenario,
          `${mode.name}: outcomes`,
          exchanges
            .map((ex) =>
              mode.reply !== undefined && answeredOrApologised(ex, mode) && ex.outcome !== 'modelError'
                ? `answer (${ex.texts.length} messages)`
                : ex.outcome,
            )
            .join(', '),
        ),
      );
    }
    rows.push(
      info(
        scenario,
        'time to deliver the big reply (Telegram allows about one message a second per chat)',
        `${bigSeconds.toFixed(0)} s`,
      ),
      atMost(scenario, 'users left without an answer or an apology', without, 0),
      atMost(
        scenario,
        `requests sent again sooner than retry-after allows (of ${retried} retries after a 429 with retry-after)`,
        early,
        0,
      ),
      atMost(scenario, 'process crashes', crashes, 0),
    );
    return {
      rows,
      notes: [
        `${scenario}: provider maxRetries 2, timeoutMs 2000; an apology is replies.modelError, or a streamed part ending with replies.cutOff ("${REPLIES.cutOff.trim()}"). A retry's wait is measured on the fake's clock from the end of the 429 answer to the next request with the same last message.`,
      ],
      outsiderModelCalls: requestsWith(requests, 'OUTSIDER'),
      crashes,
    };
  } finally {
    await fleet.stop();
    await fakes.stop();
    if (process.env.FAULTS_KEEP === undefined) await rm(dir, { recursive: true, force: true });
  }
}
