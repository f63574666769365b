/**
 * Entry point that runs both fakes in their own process, for benchmarks that must not share
 * an event loop with the fleet. Drive them through their `/__fake/` HTTP control APIs
 * (`telegram-control.ts`, `openai-control.ts`).
 *
 *   node serve.js [--telegram-port N] [--openai-port N] [--openai-latency-ms N]
 *                 [--stream-chunk-delay-ms N] [--max-poll-seconds N] [--no-record-get-updates]
 *
 * Prints one JSON line to stdout once both listen:
 *   {"telegram":{"apiRoot":"http://127.0.0.1:P","timeOrigin":T},"openai":{"baseUrl":"http://127.0.0.1:Q/v1","timeOrigin":T},"pid":N}
 * and closes both on SIGTERM, SIGINT or the end of stdin (so it dies with a parent that held
 * its stdin), then exits 0. Being a test harness, this file handles its own signals.
 */
import { parseArgs } from 'node:util';
import { startFakeOpenAI } from './openai-api.js';
import { startFakeTelegram } from './telegram-api.js';

const { values } = parseArgs({
  options: {
    'telegram-port': { type: 'string' },
    'openai-port': { type: 'string' },
    'openai-latency-ms': { type: 'string' },
    'stream-chunk-delay-ms': { type: 'string' },
    'max-poll-seconds': { type: 'string' },
    'no-record-get-updates': { type: 'boolean' },
  },
});

const number = (name: keyof typeof values): number | undefined => {
  const raw = values[name];
  if (raw === undefined || typeof raw === 'boolean') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got ${raw}`);
  return n;
};

const telegram = await startFakeTelegram({
  port: number('telegram-port') ?? 0,
  recordGetUpdates: values['no-record-get-updates'] !== true,
  ...(number('max-poll-seconds') !== undefined && { maxPollSeconds: number('max-poll-seconds') as number }),
});
const openai = await startFakeOpenAI({
  port: number('openai-port') ?? 0,
  latencyMs: number('openai-latency-ms') ?? 0,
  streamChunkDelayMs: number('stream-chunk-delay-ms') ?? 0,
});

let closing = false;
async function shutdown(): Promise<void> {
  if (closing) return;
  closing = true;
  process.stdin.destroy();
  await Promise.all([telegram.close(), openai.close()]);
}
const stop = (): void => {
  shutdown().catch((error: unknown) => {
    // Closing failed: report it and exit non-zero so the parent notices.
    process.stderr.write(`fakes: close failed: ${String(error)}\n`);
    process.exitCode = 1;
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();

process.stdout.write(
  `${JSON.stringify({
    telegram: { apiRoot: telegram.apiRoot, timeOrigin: telegram.timeOrigin },
    openai: { baseUrl: openai.baseUrl, timeOrigin: openai.timeOrigin },
    pid: process.pid,
  })}\n`,
);
