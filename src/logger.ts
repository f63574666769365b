/**
 * Structured logging: pino JSON lines, one per event. pino is imported only here; the rest of
 * the app depends on the narrow `Logger` interface so tests can capture lines from a stream.
 */
import { createRequire } from 'node:module';
import { pino } from 'pino';
import type { PinoPretty as PinoPrettyFn } from 'pino-pretty';

/** pino-pretty, loaded only for a terminal (about 10 MB and 60 ms a JSON-logging fleet skips). */
function loadPinoPretty(): typeof PinoPrettyFn {
  return (createRequire(import.meta.url)('pino-pretty') as { PinoPretty: typeof PinoPrettyFn }).PinoPretty;
}

/** The levels a logger can be set to, most verbose first; `silent` logs nothing. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** One of LOG_LEVELS. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The level used when none is given. */
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';

/** Whether `text` names a level (for validating LOG_LEVEL and similar input). */
export function isLogLevel(text: string): text is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(text);
}

/** Fields attached to a log line (`bot`, `chat`, `update`, `err`, …). */
export type LogFields = Record<string, unknown>;

/** The logging surface the app uses; every method takes fields first, then the message. */
export interface Logger {
  debug(fields: LogFields, message: string): void;
  info(fields: LogFields, message: string): void;
  warn(fields: LogFields, message: string): void;
  error(fields: LogFields, message: string): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

/** Knobs of `createLogger`. */
export interface LoggerOptions {
  /** One of LOG_LEVELS. Default DEFAULT_LOG_LEVEL (info). */
  readonly level?: LogLevel;
  /** Where JSON lines go. Default: standard output. */
  readonly destination?: NodeJS.WritableStream;
  /** Human-readable colored lines instead of JSON (for a terminal). Default false. */
  readonly pretty?: boolean;
}

/** Log fields that could hold a secret; pino replaces their values with "[redacted]". */
const REDACTED_PATHS = ['token', 'apiKey', '*.token', '*.apiKey', 'headers.authorization'];

/** Builds a pino-backed logger. Throws when `level` is not one of LOG_LEVELS (possible only
 * past the type checker). */
export function createLogger(options: LoggerOptions = {}): Logger {
  const output = options.destination ?? process.stdout;
  const destination = options.pretty
    ? loadPinoPretty()({
        destination: output,
        colorize: true,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname',
        sync: true,
      })
    : output;
  return pino(
    {
      level: options.level ?? DEFAULT_LOG_LEVEL,
      base: null,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    destination,
  );
}
