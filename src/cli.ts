#!/usr/bin/env node
/**
 * The `botfleet` command: arguments, exit codes and everything printed for a person. `main`
 * takes its I/O as a parameter (tests pass their own); the process's argv, env and streams
 * are wired in only when this file is the program being run, which ends the process (with
 * `main`'s exit code) once `main` resolved, even if a stray timer is alive. Besides `main`'s exit
 * code, the exit status is set in one other place: shutdown.ts exits 1 on a second signal or a
 * failed stop.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from './config/load-config.js';
import { formatFleetSummary } from './config/summary.js';
import type { FleetConfig } from './config/types.js';
import { AppError, ConfigError, errorMessage, formatProblem, UsageError } from './errors.js';
import { createLogger, DEFAULT_LOG_LEVEL, isLogLevel, LOG_LEVELS, type LogLevel } from './logger.js';
import type { TerminalCommand, TerminalFlags, TerminalStreams } from './terminal/command-line.js';

// Each command imports what it uses when it runs (a dynamic import() below): `check` and
// `history` never load grammY or the bots' runtime, `run` never loads the terminal commands.

/** Exit codes: 0 success, 1 failure (runtime, unreachable), 2 invalid config or usage. */
export const EXIT = { ok: 0, failure: 1, invalid: 2 } as const;

/** Where the CLI reads and writes: `process` when run as a program; a test passes its own. */
export interface CliIo {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Whether standard output is a terminal (logs are then human-readable). */
  readonly isTTY: boolean;
  /** The standard streams, for `chat` and `history import` (absent: empty input). */
  readonly streams?: TerminalStreams;
}

const HELP = `botfleet: run Telegram bots that talk to LLMs, declared in one YAML file

Usage:
  botfleet run   [--config FILE] [--no-watch]
                                   start every bot; stop with Ctrl-C or SIGTERM. Saving
                                   the config file (or .env) or SIGHUP reloads it live;
                                   --no-watch leaves only SIGHUP
  botfleet check [--config FILE] [--online]
                                   validate the config and print the resolved fleet;
                                   --online also asks Telegram (getMe) about every token
                                   and makes a storage round trip
  botfleet chat BOT [--config FILE]
                                   talk to bot BOT in the terminal (no Telegram needed);
                                   piped: one message per input line, one reply per
                                   output line. /reset, /exit; Ctrl-C cancels a reply
  botfleet history list BOT        the stored conversations of BOT
  botfleet history show BOT CHAT [--topic N]
                                   the stored turns of a chat (CHAT "terminal": chat's)
  botfleet history export (BOT [--chat ID] | --all)
                                   the stored turns as JSON Lines on stdout
  botfleet history import [--replace] < FILE
                                   restore an export (checked in full first)
  botfleet history forget --user ID
                                   delete everything stored about a Telegram user
  botfleet history reset BOT --chat ID [--topic N]
                                   forget a conversation, as /reset does
  botfleet health [--config FILE] [--url URL]
                                   ask a running fleet's /readyz (at the config's
                                   server, or URL): exit 0 when ready, 1 otherwise

Options:
  -c, --config FILE   the config file (default: $BOTFLEET_CONFIG, then config/bots.yaml)
  -h, --help          show this help
  -v, --version       print the version

Exit codes: 0 ok, 1 failure or unreachable, 2 invalid config or usage.
Environment: LOG_LEVEL (trace, debug, info, warn, error; default info), BOTFLEET_CONFIG.
Docs: README.md; the config format: schemas/bots.schema.json.
`;

/** Runs one command line; resolves to the exit code. Never throws. */
export async function main(io: CliIo): Promise<number> {
  try {
    const { command, config, help, version, online, watch, args, flags, url } = parseCommandLine(io.argv);
    if (version) {
      io.stdout(`${readVersion()}\n`);
      return EXIT.ok;
    }
    if (help || command === undefined) {
      io.stdout(HELP);
      return help ? EXIT.ok : EXIT.invalid;
    }
    // Usage is checked in full before the config is read: a misused flag is reported as such.
    if (online && command !== 'check') throw new UsageError('--online goes with check: botfleet check --online');
    if (!watch && command !== 'run') throw new UsageError('--no-watch goes with run: botfleet run --no-watch');
    if (url !== undefined && command !== 'health')
      throw new UsageError('--url goes with health: botfleet health --url URL');
    const terminal = await terminalCommandOf(command, args, flags);
    if (command === 'health' && url !== undefined) return await health(url, io);
    const level = command === 'run' ? logLevel(io) : 'silent';
    const file = config ?? io.env.BOTFLEET_CONFIG ?? 'config/bots.yaml';
    const fleet = await loadConfig({ file, cwd: io.cwd, env: io.env, withoutTelegram: terminal !== undefined });
    if (terminal !== undefined) {
      const level = io.env.LOG_LEVEL === undefined ? undefined : logLevel(io);
      const { runTerminal } = await import('./terminal/command-line.js');
      return await runTerminal(fleet, terminal, { ...io, ...(level === undefined ? {} : { level }) });
    }
    if (command === 'health') {
      const { healthUrlOf } = await import('./ops/health-check.js');
      return await health(healthUrlOf(fleet.server), io);
    }
    if (command === 'check') {
      io.stdout(formatFleetSummary(fleet));
      return online ? await checkOnline(fleet, io) : EXIT.ok;
    }
    return await runFleet(fleet, io, { file, watch, level });
  } catch (error) {
    return reportError(error, io);
  }
}

/** The terminal command (chat, history) of the command line, checked as usage; undefined for
 * the others. The terminal module is loaded only when a terminal command or flag is used. */
async function terminalCommandOf(
  command: Command | undefined,
  args: readonly string[],
  flags: TerminalFlags,
): Promise<TerminalCommand | undefined> {
  const terminalFlag = Object.values(flags).some((value) => value !== undefined);
  if (command !== 'chat' && command !== 'history' && !terminalFlag) {
    if (args.length > 0) throw new UsageError(`unexpected argument "${args[0]}"; see botfleet --help`);
    return undefined;
  }
  const { terminalCommand } = await import('./terminal/command-line.js');
  return terminalCommand(command, args, flags);
}

/** LOG_LEVEL, checked as usage (the logger owns the list of levels). */
function logLevel(io: CliIo): LogLevel {
  const level = io.env.LOG_LEVEL ?? DEFAULT_LOG_LEVEL;
  if (!isLogLevel(level)) throw new UsageError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  return level;
}

/** `botfleet run`: runs until a signal (exit 0) or until no bot is left (exit 1). */
async function runFleet(
  config: FleetConfig,
  io: CliIo,
  options: { file: string; watch: boolean; level: LogLevel },
): Promise<number> {
  const logger = createLogger({ level: options.level, pretty: io.isTTY });
  // app.js first: its first import puts grammY's light fetch in place before anything loads
  // grammY (telegram/grammy-fetch.ts).
  const { startFleet } = await import('./app.js');
  const [{ enablesNoBot, startReloader }, { handleReloadSignal, handleShutdownSignals }] = await Promise.all([
    import('./reload.js'),
    import('./shutdown.js'),
  ]);
  if (config.bots.length === 0) throw new UsageError(enablesNoBot(config.file));
  const fleet = await startFleet(config, logger);
  const reloader = startReloader({ file: options.file, cwd: io.cwd, env: io.env, fleet, logger, watch: options.watch });
  const stopReloads = handleReloadSignal(() => void reloader.reload('SIGHUP'));
  const stopAll = async (): Promise<void> => {
    stopReloads();
    const pendingReload = reloader.close();
    // The fleet refuses to start bots from here on; a reload in progress only finishes logging.
    await fleet.stop();
    await pendingReload;
  };
  const shutdown = handleShutdownSignals(stopAll, logger);
  const outcome = await Promise.race([shutdown.signalled.then(() => undefined), fleet.noBotLeft]);
  if (outcome === undefined) return EXIT.ok;
  logger.error({}, `no bot is left running (${outcome}); exiting`);
  shutdown.dispose();
  await stopAll();
  return EXIT.failure;
}

/** `botfleet health`: one line, exit 0 when /readyz at `url` says ready, 1 otherwise. */
async function health(url: string | undefined, io: CliIo): Promise<number> {
  if (url === undefined) {
    io.stderr('botfleet: the HTTP server is off (or on port 0): set server.port in the config, or pass --url\n');
    return EXIT.failure;
  }
  const { checkHealth } = await import('./ops/health-check.js');
  const result = await checkHealth(url);
  (result.ok ? io.stdout : io.stderr)(`${result.line}\n`);
  return result.ok ? EXIT.ok : EXIT.failure;
}

type Command = 'run' | 'check' | 'health' | 'chat' | 'history';
const COMMANDS: readonly string[] = ['run', 'check', 'health', 'chat', 'history'];

interface CommandLine {
  readonly command: Command | undefined;
  readonly config: string | undefined;
  readonly help: boolean;
  readonly version: boolean;
  readonly online: boolean;
  /** false with --no-watch. */
  readonly watch: boolean;
  /** The positionals after the command. */
  readonly args: readonly string[];
  readonly flags: TerminalFlags;
  /** health --url. */
  readonly url: string | undefined;
}

/** `check --online`: getMe per token and a storage round trip; exit 1 if any fails. */
async function checkOnline(fleet: FleetConfig, io: CliIo): Promise<number> {
  const { checkFleetOnline } = await import('./app.js'); // first: see runFleet
  const results = await checkFleetOnline(fleet, createLogger({ level: 'silent' }));
  const width = Math.max(...results.map((result) => result.subject.length));
  io.stdout(
    `\nonline\n${results.map((r) => `  ${r.subject.padEnd(width)}  ${r.ok ? 'ok' : 'FAILED'}: ${r.detail}\n`).join('')}`,
  );
  return results.every((result) => result.ok) ? EXIT.ok : EXIT.failure;
}

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
  online: { type: 'boolean' },
  'no-watch': { type: 'boolean' },
  chat: { type: 'string' },
  topic: { type: 'string' },
  user: { type: 'string' },
  all: { type: 'boolean' },
  replace: { type: 'boolean' },
  url: { type: 'string' },
} as const;

function parseCommandLine(argv: readonly string[]): CommandLine {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: OPTIONS,
    });
  } catch (error) {
    // node:util explains the problem at length; keep only the option it names.
    const message = error instanceof Error ? error.message : '';
    const option = /--[a-z-]+/.exec(message)?.[0] ?? /'([^']+)'/.exec(message)?.[1];
    const code = (error as { code?: string }).code;
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE')
      throw new UsageError(`${option ?? 'an option'} needs a value; see botfleet --help`);
    throw new UsageError(`unknown option ${option ?? ''}; see botfleet --help`.replace('  ', ' '));
  }
  const [command, ...args] = parsed.positionals;
  if (command !== undefined && !COMMANDS.includes(command)) {
    throw new UsageError(`unknown command "${command}"; the commands are ${COMMANDS.join(', ')} (see botfleet --help)`);
  }
  const { values } = parsed;
  const { chat, topic, user, all, replace } = values;
  return {
    command: command as Command | undefined,
    args,
    flags: { chat, topic, user, all, replace },
    config: values.config,
    help: values.help ?? false,
    version: values.version ?? false,
    online: values.online ?? false,
    watch: !(values['no-watch'] ?? false),
    url: values.url,
  };
}

function reportError(error: unknown, io: CliIo): number {
  if (error instanceof ConfigError) {
    io.stderr(error.problems.map((problem) => `${formatProblem(problem)}\n`).join(''));
    return EXIT.invalid;
  }
  if (error instanceof UsageError) {
    io.stderr(`botfleet: ${error.message}\n`);
    return EXIT.invalid;
  }
  if (error instanceof AppError) {
    io.stderr(`botfleet: ${error.message}\n`);
    return EXIT.failure;
  }
  // A bug, not a user error: say so briefly; the stack only when asked for.
  const detail = io.env.LOG_LEVEL === 'debug' && error instanceof Error ? `\n${error.stack ?? ''}` : '';
  io.stderr(`botfleet: internal error: ${errorMessage(error)}${detail}\n`);
  return EXIT.failure;
}

function readVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Whether this module is the program being run (`node dist/cli.js`, or the npm bin link to
 * it), not imported. */
function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    // An entry path that does not resolve is not this file.
    return false;
  }
}

/** How long the process may outlive `main` (output still flushing) before it is ended. */
const EXIT_GRACE_MS = 1000;

if (isEntryPoint()) {
  process.exitCode = await main({
    argv: process.argv.slice(2),
    env: process.env,
    cwd: process.cwd(),
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    isTTY: process.stdout.isTTY === true,
    streams: {
      stdin: process.stdin,
      stdout: process.stdout,
      stderr: process.stderr,
      interactive: process.stdin.isTTY === true && process.stdout.isTTY === true,
      columns: () => process.stdout.columns ?? 80,
    },
  });
  // Everything is stopped: a timer we cannot cancel (the runner sleeping out a long getUpdates
  // 429 on a bare setTimeout) must not keep the process alive. Unref'd: a clean exit comes first.
  setTimeout(() => process.exit(), EXIT_GRACE_MS).unref();
}
