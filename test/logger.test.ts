/** The logger owns the list of log levels: it is pino's, and createLogger accepts exactly it. */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createLogger, DEFAULT_LOG_LEVEL, isLogLevel, LOG_LEVELS, type LogLevel } from '../src/logger.js';

/** A logger at `level` (default when undefined) and the messages it wrote. */
function loggerAt(level: LogLevel | undefined): { log: ReturnType<typeof createLogger>; messages: () => string[] } {
  let buffer = '';
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      buffer += chunk.toString();
      callback();
    },
  });
  const log = createLogger(level === undefined ? { destination } : { level, destination });
  const messages = () =>
    buffer
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => (JSON.parse(line) as { msg: string }).msg);
  return { log, messages };
}

describe('log levels', () => {
  it("lists pino's levels, most verbose first, and silent", () => {
    const byValue = Object.entries(pino.levels.values).sort(([, a], [, b]) => a - b);
    expect(LOG_LEVELS).toEqual([...byValue.map(([name]) => name), 'silent']);
    expect(LOG_LEVELS.filter(isLogLevel)).toEqual(LOG_LEVELS);
    expect(isLogLevel('loud')).toBe(false);
  });

  it('builds a logger for every listed level and refuses any other', () => {
    for (const level of LOG_LEVELS) expect(() => createLogger({ level })).not.toThrow();
    expect(() => createLogger({ level: 'loud' as LogLevel })).toThrow(/loud/);
  });

  it('logs info and above, not debug, by default', () => {
    expect(DEFAULT_LOG_LEVEL).toBe('info');
    const { log, messages } = loggerAt(undefined);
    log.debug({}, 'hidden');
    log.info({}, 'shown');
    log.warn({}, 'also shown');
    expect(messages()).toEqual(['shown', 'also shown']);
  });
});
