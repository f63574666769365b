/**
 * Per-message timings from the fakes' own records, all on the fakes' clock:
 *
 *   added latency = (sendMessage arrival − update handed out by getUpdates)
 *                 − (model answer end − model request arrival)
 *
 * and the same from the moment the update was queued at the fake ("from send"), which also
 * counts the time an update waited for a poll: what a user would see on top of the model
 * when the system falls behind.
 */
import type { RecordedRequest } from '../../test/fakes/openai-types.js';
import type { SentMessage, UpdateTiming } from '../../test/fakes/telegram-types.js';
import type { Fakes } from './fakes.js';
import type { Posted } from './traffic.js';

/** One answered message. Times in ms on the fakes' clock. */
export interface MessageTiming {
  readonly queuedAt: number;
  readonly deliveredAt: number;
  readonly repliedAt: number;
  readonly modelMs: number;
  /** The figure: handed out → reply, minus the model. */
  readonly addedMs: number;
  /** Queued → reply, minus the model. */
  readonly addedFromSendMs: number;
}

/** Cursors into the fakes' records, taken before a run so only its records are read. */
export interface RecordCursors {
  readonly sentAfter: number;
  readonly requestsSince: number;
}

/** The current ends of the fakes' records. */
export async function recordCursors(fakes: Fakes): Promise<RecordCursors> {
  const [telegram, openai] = await Promise.all([
    fakes.telegram<{ sentCount: number }>('/__fake/info'),
    fakes.openai<{ nextSeq: number }>('/__fake/info'),
  ]);
  return { sentAfter: telegram.sentCount, requestsSince: openai.nextSeq };
}

/** The text of the last user message of a model request body. */
export function lastUserText(body: Record<string, unknown> | undefined): string | undefined {
  const messages = (body?.messages ?? []) as { role?: string; content?: unknown }[];
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message?.role === 'user' && typeof message.content === 'string') return message.content;
  }
  return undefined;
}

/** Every chat completion request since `since`, read in pages. */
export async function modelRequests(fakes: Fakes, since: number): Promise<RecordedRequest[]> {
  const all: RecordedRequest[] = [];
  for (let cursor = since; ; ) {
    const { requests, next } = await fakes.openai<{ requests: RecordedRequest[]; next: number }>(
      `/__fake/requests?since=${cursor}&limit=2000`,
    );
    all.push(...requests.filter((r) => r.path === '/v1/chat/completions'));
    if (requests.length === 0 || next === cursor) return all;
    cursor = next;
  }
}

/** Timings of every message in `posted` that was answered, matched through its unique text. */
export async function messageTimings(
  fakes: Fakes,
  posted: ReadonlyMap<string, Posted>,
  cursors: RecordCursors,
): Promise<MessageTiming[]> {
  const tokens = new Set([...posted.values()].map((p) => p.token));
  const timings = new Map<string, UpdateTiming>();
  for (const token of tokens) {
    const { timings: list } = await fakes.telegram<{ timings: UpdateTiming[] }>(
      `/__fake/timings?token=${encodeURIComponent(token)}`,
    );
    for (const timing of list) timings.set(`${token}|${timing.updateId}`, timing);
  }
  const model = new Map<string, RecordedRequest>();
  for (const request of await modelRequests(fakes, cursors.requestsSince)) {
    const text = lastUserText(request.body);
    if (text !== undefined) model.set(text, request);
  }
  const { messages } = await fakes.telegram<{ messages: SentMessage[] }>(`/__fake/sent?after=${cursors.sentAfter}`);
  const result: MessageTiming[] = [];
  for (const sent of messages) {
    if (!sent.text.startsWith('echo: ')) continue;
    const text = sent.text.slice('echo: '.length);
    const origin = posted.get(text);
    const request = model.get(text);
    const timing = origin === undefined ? undefined : timings.get(`${origin.token}|${origin.updateId}`);
    if (timing?.deliveredAt === undefined || request?.outcome === undefined) continue;
    const modelMs = request.outcome.endedAt - request.at;
    result.push({
      queuedAt: timing.queuedAt,
      deliveredAt: timing.deliveredAt,
      repliedAt: sent.at,
      modelMs,
      addedMs: sent.at - timing.deliveredAt - modelMs,
      addedFromSendMs: sent.at - timing.queuedAt - modelMs,
    });
  }
  return result;
}
