/**
 * The `chat` and `history` command lines for cli.ts: their usage checked, their logger (to
 * stderr, never stdout) and their run.
 */
import { type Readable, Writable } from 'node:stream';
import type { FleetConfig } from '../config/types.js';
import { UsageError } from '../errors.js';
import { createLogger, type LogLevel } from '../logger.js';
import { runChat } from './chat.js';
import { type HistoryCommand, runHistory } from './history.js';
import { parseHistoryCommand } from './history-args.js';

/** The process's standard streams, for the terminal commands. */
export interface TerminalStreams {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** Both stdin and stdout are a terminal: `chat` is interactive. */
  readonly interactive: boolean;
  readonly columns: () => number;
}

/** The options only `history` takes. */
export interface TerminalFlags {
  readonly chat?: string | undefined;
  readonly topic?: string | undefined;
  readonly user?: string | undefined;
  readonly all?: boolean | undefined;
  readonly replace?: boolean | undefined;
}

/** What a terminal command is run with (cli.ts's CliIo fits). */
export interface TerminalIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly streams?: TerminalStreams;
  /** LOG_LEVEL when set. */
  readonly level?: LogLevel;
}

/** A `chat` or `history` command line, checked. */
export type TerminalCommand = { readonly chat: string } | { readonly history: HistoryCommand };

/** The terminal command of a command line (usage checked), or undefined for run/check. */
export function terminalCommand(
  command: string | undefined,
  args: readonly string[],
  flags: TerminalFlags,
): TerminalCommand | undefined {
  const used = Object.entries(flags).find(([, value]) => value !== undefined)?.[0];
  if (command === 'history') return { history: parseHistoryCommand(args, flags) };
  if (used !== undefined) throw new UsageError(`--${used} goes with history; see botfleet --help`);
  if (command !== 'chat') {
    if (args.length > 0) throw new UsageError(`unexpected argument "${args[0]}"; see botfleet --help`);
    return undefined;
  }
  const [bot, extra] = args;
  if (bot === undefined) throw new UsageError('chat needs a bot id: botfleet chat BOT');
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"; see botfleet --help`);
  return { chat: bot };
}

/** Runs `chat` or `history`: logs (LOG_LEVEL, default warn; error in an interactive chat) go
 * to stderr, never stdout. */
export async function runTerminal(fleet: FleetConfig, command: TerminalCommand, io: TerminalIo): Promise<number> {
  const streams = io.streams;
  // Interactive, only errors interrupt the conversation (a cancelled reply is not a warning).
  const quiet = streams?.interactive === true ? 'error' : 'warn';
  const level = io.level ?? quiet;
  const logger = createLogger({
    level,
    pretty: streams?.interactive === true,
    destination:
      streams?.stderr ??
      new Writable({
        write(chunk, _encoding, done) {
          io.stderr(String(chunk));
          done();
        },
      }),
  });
  if ('history' in command) {
    const readInput = async (): Promise<string> => {
      // A terminal would wait for typed JSON Lines; the user meant to redirect a file.
      if ((streams?.stdin as { isTTY?: boolean } | undefined)?.isTTY === true)
        throw new UsageError('history import reads an export from standard input: botfleet history import < FILE');
      let text = '';
      for await (const chunk of streams?.stdin ?? []) text += String(chunk);
      return text;
    };
    return runHistory(fleet, command.history, { write: io.stdout, writeError: io.stderr, readInput, logger });
  }
  if (streams === undefined) throw new UsageError('chat needs standard input');
  return runChat(fleet, command.chat, {
    input: streams.stdin,
    output: streams.stdout,
    write: io.stdout,
    writeError: io.stderr,
    interactive: streams.interactive,
    columns: streams.columns,
    logger,
  });
}
