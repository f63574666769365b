/**
 * Scenario 8, streaming: (a) the time from the model's first token (the fake OpenAI's first
 * chunk) to the first visible text (the first sendMessage or sendMessageDraft with text at the
 * fake Bot API), both on the fakes' clock, with `telegram.firstMessageDelayMs` at its default
 * and at 0; (b) the 429s in a 50-chat streaming run with every chat kept streaming (about one
 * message or edit per second each, the per-chat ceiling) and the fake emulating Telegram's
 * flood limits.
 */
import { performance } from 'node:perf_hooks';
import { type Fakes, startFakes } from '../lib/fakes.js';
import { callCursor, waitForPolling } from '../lib/polling.js';
import { atMost, type Row, row } from '../lib/report.js';
import { percentile } from '../lib/stats.js';
import { makeTokens, type RunningSystem, startSystem } from '../lib/sut.js';
import { round, type ScenarioContext, type ScenarioResult } from './context.js';

const ID = 8;
const TITLE = 'streaming';
/** Goal (a): first visible text at most one Telegram round trip + this after the first token. */
const SLACK_MS = 50;

/** A reply of `words` words, streamed one word per chunk. */
const replyOf = (words: number): string =>
  Array.from({ length: words }, (_, i) => (i % 7 === 6 ? `**word${i}**` : `word${i}`)).join(' ');

interface Call {
  readonly method: string;
  readonly at: number;
  readonly params: Record<string, unknown>;
  readonly outcome?: { readonly status: number };
}

/** Every call of `token` from `since` on. */
async function callsOf(fakes: Fakes, token: string, since: number): Promise<Call[]> {
  const all: Call[] = [];
  let cursor = since;
  for (;;) {
    const { calls, next } = await fakes.telegram<{ calls: Call[]; next: number }>(
      `/__fake/calls?since=${cursor}&token=${encodeURIComponent(token)}`,
    );
    all.push(...calls);
    if (next === cursor || calls.length === 0) return all;
    cursor = next;
  }
}

/** botfleet with one bot (and `defaults`), polling; stopped by the caller. */
async function startBot(
  fakes: Fakes,
  run: string,
  defaults: string[],
): Promise<{ system: RunningSystem; token: string }> {
  const [token] = makeTokens(1, run) as [string];
  await fakes.addBots([token]);
  const since = await callCursor(fakes);
  const system = await startSystem({ kind: 'botfleet', fakes, tokens: [token], storage: 'sqlite', defaults });
  await waitForPolling(fakes, system, [token], since, 20_000);
  return { system, token };
}

/** The first visible text's delay after the first token, per sample (ms). */
async function firstTextDelays(
  fakes: Fakes,
  samples: number,
  firstMessageDelayMs: number | undefined,
): Promise<number[]> {
  const label = firstMessageDelayMs === undefined ? 'default' : `d${firstMessageDelayMs}`;
  const defaults =
    firstMessageDelayMs === undefined ? [] : [`telegram: { firstMessageDelayMs: ${firstMessageDelayMs} }`];
  const { system, token } = await startBot(fakes, `s8-${label}`, defaults);
  try {
    await fakes.openai('/__fake/clear', {});
    await fakes.openai('/__fake/reply', { reply: { content: replyOf(30), chunkDelayMs: 30 } });
    const since = await callCursor(fakes);
    const chat = (i: number): number => 80_000 + i;
    for (let i = 0; i < samples; i++) {
      await fakes.telegram('/__fake/sendText', { token, chatId: chat(i), userId: chat(i), text: `sample ${i}` });
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    const firstText = await waitForFirstTexts(fakes, token, since, samples, chat);
    const firstToken = await firstTokens(fakes, samples);
    return Array.from(
      { length: samples },
      (_, i) => (firstText.get(chat(i)) ?? NaN) - (firstToken.get(`sample ${i}`) ?? NaN),
    );
  } finally {
    await system.stop();
  }
}

/** Fake-clock time of the first sendMessage/sendMessageDraft with text, per chat, once every
 * sampled chat has one (20 s at most). */
async function waitForFirstTexts(
  fakes: Fakes,
  token: string,
  since: number,
  samples: number,
  chat: (i: number) => number,
): Promise<Map<number, number>> {
  const deadline = performance.now() + 20_000;
  for (;;) {
    const first = new Map<number, number>();
    for (const call of await callsOf(fakes, token, since)) {
      const shows = call.method === 'sendMessage' || call.method === 'sendMessageDraft';
      if (!shows || call.outcome?.status !== 200 || typeof call.params.text !== 'string') continue;
      const id = Number(call.params.chat_id);
      if (!first.has(id)) first.set(id, call.at);
    }
    if (Array.from({ length: samples }, (_, i) => chat(i)).every((id) => first.has(id))) return first;
    if (performance.now() > deadline)
      throw new Error(`bench: only ${first.size} of ${samples} streamed replies showed text`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Fake-clock time of the model's first chunk, by the user text of the request, once
 * `count` streams ended (the fake records an answer when it is complete; 20 s at most). */
async function firstTokens(fakes: Fakes, count: number): Promise<Map<string, number>> {
  type Request = { body?: { messages?: { role: string; content: unknown }[] }; outcome?: { firstByteAt?: number } };
  const deadline = performance.now() + 20_000;
  for (;;) {
    const { requests } = await fakes.openai<{ requests: Request[] }>('/__fake/requests?since=0');
    const byText = new Map<string, number>();
    for (const request of requests) {
      const user = request.body?.messages?.filter((m) => m.role === 'user').at(-1)?.content;
      const at = request.outcome?.firstByteAt;
      if (typeof user === 'string' && at !== undefined) byText.set(user, at);
    }
    if (byText.size >= count) return byText;
    if (performance.now() > deadline) throw new Error(`bench: only ${byText.size} of ${count} model streams ended`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The flood run's shape (see Sizes.streaming). */
interface FloodSize {
  readonly chats: number;
  readonly seconds: number;
  readonly words: number;
  readonly wordMs: number;
}

/** Runs (b): `chats` private chats of one bot, each sent a message every reply's length + 1 s
 * (so each is always streaming, its edits paced by the 1 s floor: the per-chat ceiling),
 * staggered, for `seconds`, with the flood limits emulated; counts the 429s and the visible
 * calls (sends, edits, drafts). */
async function floodRun(fakes: Fakes, size: FloodSize): Promise<{ limited: number; shown: number; seconds: number }> {
  const { chats, seconds } = size;
  const { system, token } = await startBot(fakes, 's8-flood', []);
  const cycleMs = size.words * size.wordMs + 1000;
  try {
    await fakes.openai('/__fake/reply', { reply: { content: replyOf(size.words), chunkDelayMs: size.wordMs } });
    await fakes.telegram('/__fake/flood', { on: true });
    const since = await callCursor(fakes);
    const started = performance.now();
    let round = 0;
    while (performance.now() - started < seconds * 1000) {
      for (let c = 0; c < chats; c++) {
        const id = 90_000 + c;
        setTimeout(
          () => {
            void fakes.telegram('/__fake/sendText', { token, chatId: id, userId: id, text: `r${round} c${c}` });
          },
          (c * cycleMs) / chats,
        );
      }
      round += 1;
      await new Promise((resolve) => setTimeout(resolve, cycleMs));
    }
    await new Promise((resolve) => setTimeout(resolve, cycleMs + 2000)); // the last streams end
    const calls = (await callsOf(fakes, token, since)).filter((c) => c.method !== 'getUpdates');
    const visible = new Set(['sendMessage', 'editMessageText', 'sendMessageDraft']);
    return {
      limited: calls.filter((c) => c.outcome?.status === 429).length,
      shown: calls.filter((c) => visible.has(c.method) && c.outcome?.status === 200).length,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await fakes.telegram('/__fake/flood', { on: false });
    await system.stop();
  }
}

/** Runs scenario 8. */
export async function streaming(ctx: ScenarioContext): Promise<ScenarioResult> {
  const size = ctx.options.sizes.streaming;
  const fakes = await startFakes({ recordGetUpdates: true });
  try {
    const rtt = await fakes.roundTripMs(100);
    ctx.progress(`8 ${TITLE}: first visible text, ${size.samples} streamed replies, firstMessageDelayMs default`);
    const byDefault = await firstTextDelays(fakes, size.samples, undefined);
    ctx.progress(`8 ${TITLE}: first visible text, firstMessageDelayMs 0`);
    const immediate = await firstTextDelays(fakes, size.samples, 0);
    ctx.progress(`8 ${TITLE}: ${size.chats} chats streaming for ${size.seconds} s, flood limits emulated`);
    const flood = await floodRun(fakes, size);
    return report(size, rtt, byDefault, immediate, flood);
  } finally {
    await fakes.stop();
  }
}

/** The rows, notes and raw figures of scenario 8. */
function report(
  size: FloodSize & { samples: number },
  rtt: number,
  byDefault: number[],
  immediate: number[],
  flood: { limited: number; shown: number; seconds: number },
): ScenarioResult {
  const goalMs = rtt + SLACK_MS;
  const goal = atMost(goalMs, `≤ ${goalMs.toFixed(1)} ms (1 round trip + ${SLACK_MS} ms)`);
  const stats = (values: number[]) => {
    const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
  };
  const d = stats(byDefault);
  const z = stats(immediate);
  const s = `${ID} ${TITLE}`;
  const first = (label: string, p: 'p50' | 'p99', value: number): Row =>
    row({
      scenario: `${s} (first token → first visible text)`,
      figure: `${label} ${p}`,
      unit: 'ms',
      botfleet: value,
      goal,
    });
  const rows: Row[] = [
    first('firstMessageDelayMs 300 (default)', 'p50', d.p50),
    first('firstMessageDelayMs 300 (default)', 'p99', d.p99),
    first('firstMessageDelayMs 0', 'p50', z.p50),
    first('firstMessageDelayMs 0', 'p99', z.p99),
    row({
      scenario: `${s} (${size.chats} chats, flood limits emulated)`,
      figure: '429s',
      unit: '',
      digits: 0,
      botfleet: flood.limited,
      goal: atMost(0, '0'),
    }),
  ];
  const notes = [
    `Scenario 8 (a): ${size.samples} replies of 30 words streamed at 30 ms a word, one chat each, 150 ms apart; time from the fake model's first chunk to the first sendMessage (or draft) with text, on the fakes' clock. The default firstMessageDelayMs (300 ms) waits on purpose for enough text to make the first message worth showing, and lets a reply complete within it go out as one sendMessage with no edit; with 0 the first words go out at once.`,
    `Scenario 8 (b): ${size.chats} private chats of one bot, each sent a message every ${(size.words * size.wordMs + 1000) / 1000} s (a ${size.words}-word reply streamed over ${(size.words * size.wordMs) / 1000} s, so every chat is always streaming at its 1 s edit floor; the chats staggered), for ${size.seconds} s; the fake Bot API answered ${flood.limited} of the calls 429 and showed ${flood.shown} sends and edits (${(flood.shown / flood.seconds).toFixed(1)}/s).`,
  ];
  return {
    id: ID,
    title: TITLE,
    rows,
    notes,
    details: {
      roundTripMs: round(rtt),
      firstTextMs: {
        default: { ...d, samples: byDefault.map((v) => round(v)) },
        zero: { ...z, samples: immediate.map((v) => round(v)) },
      },
      flood,
    },
    charts: [],
    profiles: [],
  };
}
