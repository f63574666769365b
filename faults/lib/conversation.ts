/**
 * Talking to a running fleet the way one user does: send a private message, wait for what the
 * bot answers, and classify it (the answer, an apology, nothing), with the model request that
 * produced it and the history that request carried.
 */
import type { Fakes, ModelRequest, Sent } from './fakes.js';

/** The reply texts the suite configures, to recognise apologies. */
export const REPLIES = {
  modelError: 'FAULT-modelError: try again.',
  storageError: 'FAULT-storageError: try again.',
  storeFailed: 'FAULT-storeFailed: not remembered.',
  historyLost: 'FAULT-historyLost: starting again.',
  busy: 'FAULT-busy: send it again later.',
  notAllowed: 'FAULT-notAllowed {userId}.',
  nonText: 'FAULT-nonText.',
  cutOff: ' FAULT-cutOff',
} as const;

/** The `replies:` line of `defaults:` that sets them. */
export const REPLIES_YAML = `replies: { ${Object.entries(REPLIES)
  .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
  .join(', ')} }`;

/** How one message was answered. */
export type Outcome =
  | 'answer' // the model's answer, whole
  | 'answer+storeFailed' // the answer, then the note that it was not stored
  | 'storageError'
  | 'modelError'
  | 'cutOff' // a streamed answer ended with the cut-off note
  | 'busy'
  | 'other'
  | 'none'; // nothing within the deadline

/** One exchange. */
export interface Exchange {
  readonly text: string;
  readonly sentAt: number; // Date.now() just before it was queued at the fake
  readonly updateId: number; // the fake's update id for it
  readonly outcome: Outcome;
  readonly repliedAt: number | undefined; // Date.now() of the first message of the reply
  readonly texts: readonly string[];
}

/** The text of the model's answer to `text` (the fake model's echo). */
export const echo = (text: string): string => `echo: ${text}`;

function classify(text: string, messages: readonly Sent[]): Outcome | undefined {
  const texts = messages.map((m) => m.text);
  const joined = texts.join('');
  if (texts.includes(REPLIES.storageError)) return 'storageError';
  if (texts.includes(REPLIES.modelError)) return 'modelError';
  if (texts.includes(REPLIES.busy)) return 'busy';
  if (joined.endsWith(REPLIES.cutOff.trim()) || texts.some((t) => t.includes('FAULT-cutOff'))) return 'cutOff';
  if (texts.includes(echo(text))) return texts.includes(REPLIES.storeFailed) ? 'answer+storeFailed' : 'answer';
  return undefined;
}

/** Sends `text` from user `userId` to bot `token` and waits up to `timeoutMs` for the answer
 * (and `settleMs` more for a note that may follow it). `edits` = the fake's message texts
 * are read after edits (streamed replies grow by edits: the final text is what counts). */
export async function exchange(
  fakes: Fakes,
  token: string,
  userId: number,
  text: string,
  options: { timeoutMs?: number; settleMs?: number; answered?: (texts: readonly string[]) => boolean } = {},
): Promise<Exchange> {
  const before = await sentTo(fakes, token, userId, 0);
  const after = before.next;
  const sentAt = Date.now();
  const updateId = await fakes.say(token, userId, text);
  const deadline = sentAt + (options.timeoutMs ?? 10_000);
  let messages: Sent[] = [];
  let outcome: Outcome | undefined;
  while (Date.now() < deadline) {
    messages = await finalTexts(fakes, token, userId, (await sentTo(fakes, token, userId, after)).messages);
    outcome = classify(text, messages);
    if (outcome === undefined && options.answered?.(messages.map((m) => m.text)) === true) outcome = 'answer';
    if (outcome !== undefined) break;
    await new Promise((r) => setTimeout(r, 60));
  }
  if (outcome === 'answer' && (options.settleMs ?? 250) > 0) {
    await new Promise((r) => setTimeout(r, options.settleMs ?? 250));
    messages = await finalTexts(fakes, token, userId, (await sentTo(fakes, token, userId, after)).messages);
    outcome = classify(text, messages) ?? outcome;
    if (options.answered !== undefined && outcome === 'answer' && !options.answered(messages.map((m) => m.text)))
      outcome = 'other';
  }
  return {
    text,
    sentAt,
    updateId,
    outcome: outcome ?? (messages.length > 0 ? 'other' : 'none'),
    repliedAt: messages[0]?.wallAt,
    texts: messages.map((m) => m.text),
  };
}

async function sentTo(
  fakes: Fakes,
  token: string,
  chatId: number,
  after: number,
): Promise<{ messages: Sent[]; next: number }> {
  return fakes.telegram<{ messages: Sent[]; next: number }>(
    `/__fake/sent?token=${encodeURIComponent(token)}&chatId=${chatId}&after=${after}`,
  );
}

/** The messages with their text after any edits (the fake keeps the edited message). */
async function finalTexts(fakes: Fakes, token: string, chatId: number, messages: Sent[]): Promise<Sent[]> {
  return Promise.all(
    messages.map(async (m) => {
      const { message } = await fakes.telegram<{ message: { text?: string } | null }>(
        `/__fake/message?token=${encodeURIComponent(token)}&chatId=${chatId}&messageId=${m.messageId}`,
      );
      return { ...m, text: message?.text ?? m.text };
    }),
  );
}

/** How many earlier turns the model request for `text` carried (user messages before it), or
 * undefined when no request for it was made. */
export function historyTurns(requests: readonly ModelRequest[], text: string): number | undefined {
  for (let i = requests.length - 1; i >= 0; i--) {
    const messages = requests[i]?.body?.messages ?? [];
    const last = messages.at(-1);
    if (last?.role === 'user' && last.content === text) return messages.filter((m) => m.role === 'user').length - 1;
  }
  return undefined;
}

/** Model requests that carry any message holding `marker` (a user outside `access`). */
export function requestsWith(requests: readonly ModelRequest[], marker: string): number {
  return requests.filter((r) =>
    (r.body?.messages ?? []).some((m) => typeof m.content === 'string' && m.content.includes(marker)),
  ).length;
}
