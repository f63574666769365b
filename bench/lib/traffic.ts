/**
 * Load drivers. Messages are queued at the fake Bot API through its control route, each with a
 * unique text so its reply (`echo: TEXT`, the fake model's default) and its model request can
 * be found again. Two shapes:
 *
 * - closed loop: every chat has one message outstanding; its reply triggers the next one.
 *   Measures the most a system can answer (the pipeline limit).
 * - open loop: messages arrive at a fixed total rate whatever the system does, spread evenly
 *   over bots and chats (each chat at rate / chats). Measures latency at a given load.
 *
 * Both take two snapshots (CPU of both processes, the fake's count of sent messages) that
 * bound the measurement window, after a warm-up.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Fakes } from './fakes.js';
import { cpuSecondsByName, machineCpu } from './proc.js';
import type { RunningSystem } from './sut.js';

/** One conversation: a private chat with a bot (the chat id is the user's id). */
export interface Chat {
  readonly token: string;
  readonly bot: number;
  readonly chatId: number;
  /** Messages queued in this chat so far. */
  sent: number;
}

/** Where a queued message went, by its text. */
export interface Posted {
  readonly token: string;
  readonly updateId: number;
}

/** The state of both processes at one moment. */
export interface Snapshot {
  /** Local `performance.now()`. */
  readonly at: number;
  /** Successful sendMessage calls the fake has seen so far. */
  readonly sentCount: number;
  readonly cpu: number;
  readonly fakesCpu: number;
  /** CPU seconds of this harness process so far. */
  readonly benchCpu: number;
  /** CPU seconds of the shared redis-server. */
  readonly redisCpu: number;
  /** CPU seconds of the whole machine (/proc/stat), to tell how much others took. */
  readonly machine: ReturnType<typeof machineCpu>;
  readonly rssMb: number;
}

/** What a driver did. */
export interface LoadResult {
  readonly posted: Map<string, Posted>;
  /** Snapshots at the start and the end of the measurement window. */
  readonly from: Snapshot;
  readonly to: Snapshot;
}

/** Open loop: messages due are queued in one control call about every TICK_MS. Small enough
 * to spread arrivals, large enough not to load the fakes with control calls. */
const TICK_MS = 10;

/** The chat id of each bot's first chat (the next ones follow it). */
export const FIRST_CHAT_ID = 100_000;

/** Chats ordered so that consecutive ones belong to different bots. */
export function makeChats(tokens: readonly string[], chatsPerBot: number): Chat[] {
  const chats: Chat[] = [];
  for (let c = 0; c < chatsPerBot; c++) {
    for (const [bot, token] of tokens.entries()) chats.push({ token, bot, chatId: FIRST_CHAT_ID + c, sent: 0 });
  }
  return chats;
}

/** The text of message `k` of a chat: unique, and about as long as a short question. */
export function questionText(chat: Chat, k: number): string {
  return `q${chat.bot}.${chat.chatId}.${k} Could you tell me one interesting fact about the number ${k}, please?`;
}

async function snapshot(fakes: Fakes, system: RunningSystem, fakesCpu: () => number): Promise<Snapshot> {
  const info = await fakes.telegram<{ sentCount: number }>('/__fake/info');
  const usage = process.cpuUsage();
  return {
    at: performance.now(),
    sentCount: info.sentCount,
    cpu: system.cpu(),
    fakesCpu: fakesCpu(),
    benchCpu: (usage.user + usage.system) / 1e6,
    redisCpu: cpuSecondsByName('redis-server'),
    machine: machineCpu(),
    rssMb: system.memory().rss,
  };
}

/** Queues one message per chat in `batch`, recording where each went. */
async function post(
  fakes: Fakes,
  batch: readonly Chat[],
  posted: Map<string, Posted>,
  text: (chat: Chat, k: number) => string,
): Promise<void> {
  if (batch.length === 0) return;
  const items = batch.map((chat) => ({
    token: chat.token,
    chatId: chat.chatId,
    userId: chat.chatId,
    text: text(chat, chat.sent++),
  }));
  const { update_ids: ids } = await fakes.telegram<{ update_ids: number[] }>('/__fake/sendTexts', { items });
  for (const [i, item] of items.entries()) posted.set(item.text, { token: item.token, updateId: ids[i] as number });
}

/** Options of both drivers. */
export interface DriveOptions {
  readonly fakes: Fakes;
  readonly system: RunningSystem;
  readonly chats: readonly Chat[];
  readonly warmupMs: number;
  readonly measureMs: number;
  /** CPU seconds of the fakes process so far. */
  readonly fakesCpu: () => number;
  readonly text?: (chat: Chat, k: number) => string;
  /** Closed loop: spread the chats' first messages over this many ms (default 0: all at once),
   * so chats do not move in lockstep (a slow model would otherwise turn them into bursts). */
  readonly staggerMs?: number;
}

/** Closed loop: see the module comment. Stops queueing at the end of the window (replies still
 * in flight are not waited for). */
export async function closedLoop(options: DriveOptions): Promise<LoadResult> {
  const { fakes, system, chats } = options;
  const text = options.text ?? questionText;
  const byKey = new Map(chats.map((chat) => [`${chat.token}|${chat.chatId}`, chat]));
  const posted = new Map<string, Posted>();
  let cursor = (await fakes.telegram<{ nextSeq: number }>('/__fake/info')).nextSeq;
  const start = performance.now();
  const stagger = options.staggerMs ?? 0;
  let staggering = Promise.resolve();
  if (stagger <= 0) await post(fakes, chats, posted, text);
  else {
    // In the background, in order: each chat's first message at its slot of the stagger window
    // (awaited before returning, so a failure is not lost).
    staggering = (async () => {
      for (const [i, chat] of chats.entries()) {
        await sleep(Math.max(0, start + (i * stagger) / chats.length - performance.now()));
        await post(fakes, [chat], posted, text);
      }
    })();
  }
  const from = sleep(options.warmupMs).then(() => snapshot(fakes, system, options.fakesCpu));
  let ended = false;
  const end = sleep(options.warmupMs + options.measureMs)
    .then(() => snapshot(fakes, system, options.fakesCpu))
    .finally(() => (ended = true));
  while (!ended && performance.now() - start < options.warmupMs + options.measureMs + 1000) {
    const { calls, next } = await fakes.telegram<{
      calls: { token: string; params: { chat_id?: unknown } }[];
      next: number;
    }>(`/__fake/calls?since=${cursor}&method=sendMessage&wait=100`);
    cursor = next;
    const batch = calls
      .map((call) => byKey.get(`${call.token}|${String(call.params.chat_id)}`))
      .filter((chat): chat is Chat => chat !== undefined);
    if (!ended) await post(fakes, batch, posted, text);
  }
  await staggering;
  return { posted, from: await from, to: await end };
}

/** Open loop: queues `ratePerSecond` messages a second in total for warm-up + window, then
 * waits (up to `drainMs`) for the replies still owed. */
export async function openLoop(
  options: DriveOptions & { readonly ratePerSecond: number; readonly drainMs: number },
): Promise<LoadResult & { readonly drained: boolean }> {
  const { fakes, system, chats } = options;
  const text = options.text ?? questionText;
  const posted = new Map<string, Posted>();
  const base = (await fakes.telegram<{ sentCount: number }>('/__fake/info')).sentCount;
  const durationMs = options.warmupMs + options.measureMs;
  const total = Math.round((options.ratePerSecond * durationMs) / 1000);
  const start = performance.now();
  const from = sleep(options.warmupMs).then(() => snapshot(fakes, system, options.fakesCpu));
  const to = sleep(durationMs).then(() => snapshot(fakes, system, options.fakesCpu));
  let queued = 0;
  while (queued < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) * options.ratePerSecond) / 1000) + 1);
    const batch: Chat[] = [];
    for (; queued < due; queued++) batch.push(chats[queued % chats.length] as Chat);
    await post(fakes, batch, posted, text);
    await sleep(TICK_MS);
  }
  const window = { from: await from, to: await to };
  const deadline = performance.now() + options.drainMs;
  let drained = false;
  while (!drained && performance.now() < deadline) {
    drained = (await fakes.telegram<{ sentCount: number }>('/__fake/info')).sentCount - base >= total;
    if (!drained) await sleep(100);
  }
  return { posted, ...window, drained };
}
