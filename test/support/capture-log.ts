/** A real pino logger (src/logger.ts) writing JSON lines into memory, for assertions. */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/logger.js';

/** One parsed log line. pino levels: 20 debug, 30 info, 40 warn, 50 error. */
export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A debug-level logger and the lines it wrote so far. */
export function captureLog(): { logger: Logger; lines: () => LogLine[]; text: () => string } {
  let buffer = '';
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      buffer += chunk.toString();
      callback();
    },
  });
  return {
    logger: createLogger({ level: 'debug', destination }),
    lines: () =>
      buffer
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as LogLine),
    text: () => buffer,
  };
}

/** pino's numeric levels. */
export const LEVEL = { debug: 20, info: 30, warn: 40, error: 50 } as const;
