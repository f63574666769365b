/**
 * `botfleet chat BOT`: a conversation with a bot in the terminal, through the same answer as
 * Telegram (window, model, store, errors), under the bot's terminal conversation key
 * (`{namespace}:{bot}:0`, keys.ts TERMINAL_CHAT_ID). No Telegram token is read or used.
 *
 * Piped (stdin not a terminal): each non-blank line is one message; each reply is printed on
 * stdout as plain text and a newline, nothing else (notices and logs go to stderr); exit 0 at
 * the end of input, 1 when the model or the store fails (nothing is stored then).
 * Interactive: a prompt, the reply streamed with Markdown styles, /reset, /exit; Ctrl-C
 * cancels a reply in flight, a second Ctrl-C exits.
 */
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { answer } from '../answer/answer.js';
import type { BotConfig, FleetConfig } from '../config/types.js';
import { AppError, errorMessage, UsageError } from '../errors.js';
import type { LlmClient } from '../llm/llm-client.js';
import { createLlmClient } from '../llm/llm-client.js';
import type { Logger } from '../logger.js';
import { type ConversationKey, TERMINAL_CHAT_ID } from '../memory/keys.js';
import { type ConversationStoreHandle, openConversationStore } from '../memory/open-store.js';
import { pipedSink, type TerminalSink, ttySink } from './sink.js';

/** Where the chat reads and writes. */
export interface ChatIo {
  readonly input: Readable;
  /** The terminal (interactive mode's prompt and replies); piped mode writes with `write`. */
  readonly output: Writable;
  readonly write: (text: string) => void;
  readonly writeError: (text: string) => void;
  /** Interactive mode: input and output are a terminal. */
  readonly interactive: boolean;
  readonly columns: () => number;
  readonly logger: Logger;
}

/** What one chat needs while it runs. */
interface Session {
  readonly bot: BotConfig;
  readonly store: ConversationStoreHandle;
  readonly llm: LlmClient;
  readonly key: ConversationKey;
  readonly io: ChatIo;
  /** Aborts the reply in flight (Ctrl-C). */
  inFlight: AbortController | undefined;
  /** Summaries running in the background (window.summary), each with the controller of the
   * reply it follows (which aborts it): awaited before the store closes (see finishSummaries). */
  readonly background: Map<Promise<void>, AbortController>;
}

/** How long the end of a chat waits for a summary still running before it gives it up (its turns
 * stay stored: the next chat's first reply summarises them again). */
const SUMMARY_EXIT_WAIT_MS = 5_000;
/** After this long, the user is told what the end of the chat is waiting for. */
const SUMMARY_EXIT_NOTE_MS = 300;

/** Runs the chat with `botId` of `fleet` until the input ends, /exit or a second Ctrl-C;
 * resolves to the exit code. Throws UsageError for an unknown bot, StoreError when the store
 * cannot be opened. */
export async function runChat(fleet: FleetConfig, botId: string, io: ChatIo): Promise<number> {
  const bot = fleet.bots.find((candidate) => candidate.id === botId);
  if (bot === undefined) {
    const known = fleet.bots.map((candidate) => candidate.id).join(', ') || 'none';
    throw new UsageError(`no enabled bot "${botId}" in ${fleet.file}; the bots are: ${known}`);
  }
  const store = await openConversationStore({ storage: fleet.storage, logger: io.logger });
  const llm = createLlmClient(bot.provider);
  const session: Session = {
    bot,
    store,
    llm,
    key: { botId, chatId: TERMINAL_CHAT_ID },
    io,
    inFlight: undefined,
    background: new Map(),
  };
  try {
    return await readLines(session);
  } finally {
    await finishSummaries(session);
    await store.close();
  }
}

/** Lets the summaries still running finish, so what they fold is stored, for at most
 * SUMMARY_EXIT_WAIT_MS (a slow or hung summary model would otherwise hold the exit for its
 * timeout and retries); then aborts them. Summaries never reject (they log). */
async function finishSummaries(session: Session): Promise<void> {
  if (session.background.size === 0) return;
  const all = Promise.all(session.background.keys());
  const note = setTimeout(
    () =>
      session.io.writeError(`(saving the summary of older turns; waiting up to ${SUMMARY_EXIT_WAIT_MS / 1000} s)\n`),
    SUMMARY_EXIT_NOTE_MS,
  );
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), SUMMARY_EXIT_WAIT_MS)));
  try {
    if ((await Promise.race([all, late])) === 'late') {
      for (const controller of session.background.values()) controller.abort();
      await all;
      session.io.writeError('(the summary was not finished; the next chat summarises those turns again)\n');
    }
  } finally {
    clearTimeout(note);
    clearTimeout(timer);
  }
}

/** The line loop: one message at a time, in order. */
async function readLines(session: Session): Promise<number> {
  const { io, bot } = session;
  const rl = createInterface({
    input: io.input,
    ...(io.interactive ? { output: io.output, terminal: true } : { terminal: false }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  if (io.interactive) {
    io.write(`Chat with ${bot.id} (${bot.model}). /reset forgets the conversation, /exit or Ctrl-C twice leaves.\n\n`);
    handleInterrupts(rl, session);
    rl.setPrompt('you> ');
    rl.prompt();
  }
  try {
    for await (const line of rl) {
      const outcome = await handleLine(line, session);
      if (outcome !== 'continue') return outcome === 'exit' ? 0 : 1;
      if (io.interactive) rl.prompt();
    }
    return 0;
  } finally {
    rl.close();
  }
}

/** Ctrl-C: cancels a reply in flight; at the prompt, the first one says how to leave and the
 * second (or a Ctrl-C right after a cancel) exits. */
function handleInterrupts(rl: Interface, session: Session): void {
  let armed = false;
  rl.on('line', () => (armed = false));
  rl.on('SIGINT', () => {
    if (armed) {
      session.inFlight?.abort();
      session.io.write('\n');
      rl.close();
    } else if (session.inFlight !== undefined) {
      session.inFlight.abort();
      // Over the "…" still shown (a reply is drawn whole, so nothing of it is on screen yet).
      session.io.write('\r\x1b[K(cancelled; nothing stored)\n');
    } else {
      session.io.write('\n(press Ctrl-C again or type /exit to leave)\n');
      rl.prompt();
    }
    armed = true;
  });
}

/** Handles one input line: a command or a message. 'failed' when piped and it failed. */
async function handleLine(line: string, session: Session): Promise<'continue' | 'exit' | 'failed'> {
  const { io, store, key } = session;
  const command = line.trim();
  if (command === '') return 'continue';
  if (command === '/exit') return 'exit';
  const tell = io.interactive ? io.write : io.writeError;
  try {
    if (command === '/reset') {
      await store.reset(key);
      tell('(conversation forgotten)\n');
      return 'continue';
    }
    return await say(line, session);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    // Handled: a storage failure is told; piped, it ends the chat with exit 1.
    tell(`botfleet: ${errorMessage(error)}\n`);
    return io.interactive ? 'continue' : 'failed';
  }
}

/** Answers one message. 'failed' when piped and the model or the store failed. */
async function say(text: string, session: Session): Promise<'continue' | 'failed'> {
  const { io, bot, store, key } = session;
  const sink: TerminalSink = io.interactive
    ? ttySink({ write: (chunk) => io.output.write(chunk), columns: io.columns })
    : pipedSink(io.write, io.writeError);
  const state = await store.read(key);
  if (state.lost) await sink.notify({ kind: 'historyLost', text: bot.replies.historyLost });
  const controller = new AbortController();
  session.inFlight = controller;
  try {
    await answer(
      { conversation: key, turns: state.turns, summary: state.summary, userText: text },
      {
        config: bot,
        memory: store,
        llm: session.llm,
        llmFor: (config) =>
          config.provider.name === bot.provider.name ? session.llm : createLlmClient(config.provider),
        track: (work) => {
          session.background.set(work, controller);
          void work.finally(() => session.background.delete(work));
        },
        sink,
        signal: controller.signal,
        log: io.logger,
      },
    );
  } finally {
    session.inFlight = undefined;
  }
  const failure = sink.notices.find((notice) => notice.kind !== 'historyLost');
  if (failure === undefined || io.interactive) return 'continue';
  const cause = failure.cause === undefined ? '' : `: ${failure.cause}`;
  const what = failure.kind === 'modelError' ? 'the model failed' : 'storage failed';
  io.writeError(`botfleet: ${what}${cause}; this message was not stored\n`);
  return 'failed';
}
