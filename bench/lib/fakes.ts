/**
 * The fake Bot API and fake OpenAI server in their own process (test/fakes/serve.ts, compiled
 * by bench/tsconfig.json), so they never share an event loop with the system under test.
 * Every timestamp the harness computes with comes from this process's clock.
 */
import { spawn } from 'node:child_process';
import { Agent, get } from 'node:http';
import { performance } from 'node:perf_hooks';
import { control, firstLine } from '../../test/fakes/child-fakes.js';
import { FAKES_ENTRY } from './paths.js';

/** Options of `startFakes`. */
export interface FakesOptions {
  /** Fixed model latency in ms (default 0). */
  readonly modelMs?: number;
  /** Record getUpdates calls (needed to see when a bot starts polling). Default false. */
  readonly recordGetUpdates?: boolean;
}

/** The running fakes. */
export interface Fakes {
  readonly apiRoot: string;
  readonly baseUrl: string;
  readonly pid: number;
  /** Fake clock (`performance.now()` of the fakes) minus this process's, in ms, measured by
   * round trips; add it to a local `performance.now()` to compare with the fakes' records. */
  readonly clockOffsetMs: number;
  telegram<T = Record<string, unknown>>(path: string, body?: unknown): Promise<T>;
  openai<T = Record<string, unknown>>(path: string, body?: unknown): Promise<T>;
  /** Registers bot tokens with the fake Bot API. */
  addBots(tokens: readonly string[]): Promise<void>;
  /** This process's `performance.now()` expressed on the fakes' clock. */
  fakeNow(): number;
  /** Median round trip (ms) of `count` sequential keep-alive node:http getMe calls from this
   * process to the fake Bot API: what one loopback HTTP exchange costs on this machine. */
  roundTripMs(count?: number): Promise<number>;
  /** SIGTERM, then SIGKILL after 5 s; resolves on exit. */
  stop(): Promise<void>;
}

const CALIBRATION_TOKEN = '999999999:bench-clock';

/** Offset of the fakes' clock from ours: a getMe round trip, recorded by the fake with its own
 * `performance.now()`, sits at the midpoint of our send and receive times; the shortest of a
 * few round trips wins. Both processes' `performance.now()` count from their start, so the
 * offset is essentially the difference of their start times. */
async function calibrate(apiRoot: string): Promise<number> {
  await control(apiRoot, '/__fake/bots', { token: CALIBRATION_TOKEN });
  let best = { rtt: Infinity, offset: 0 };
  for (let i = 0; i < 7; i++) {
    const before = performance.now();
    await fetch(`${apiRoot}/bot${CALIBRATION_TOKEN}/getMe`).then((res) => res.arrayBuffer());
    const after = performance.now();
    const { calls } = await control<{ calls: { at: number }[] }>(
      apiRoot,
      `/__fake/calls?token=${CALIBRATION_TOKEN}&method=getMe`,
      undefined,
    );
    const at = calls.at(-1)?.at;
    if (at !== undefined && after - before < best.rtt)
      best = { rtt: after - before, offset: at - (before + after) / 2 };
  }
  await control(apiRoot, '/__fake/clearCalls', {});
  return best.offset;
}

/** Starts both fakes in a child process; rejects when they do not start within 10 s. */
export async function startFakes(options: FakesOptions = {}): Promise<Fakes> {
  const args = [
    FAKES_ENTRY,
    '--openai-latency-ms',
    String(options.modelMs ?? 0),
    ...(options.recordGetUpdates === true ? [] : ['--no-record-get-updates']),
  ];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let info: { telegram: { apiRoot: string }; openai: { baseUrl: string }; pid: number };
  try {
    info = JSON.parse(await firstLine(child, 10_000)) as typeof info;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const openaiRoot = info.openai.baseUrl.replace(/\/v1$/, '');
  const clockOffsetMs = await calibrate(info.telegram.apiRoot);
  return {
    apiRoot: info.telegram.apiRoot,
    baseUrl: info.openai.baseUrl,
    pid: info.pid,
    clockOffsetMs,
    telegram: (path, body) => control(info.telegram.apiRoot, path, body),
    openai: (path, body) => control(openaiRoot, path, body),
    async addBots(tokens) {
      for (const token of tokens) await control(info.telegram.apiRoot, '/__fake/bots', { token });
    },
    fakeNow: () => performance.now() + clockOffsetMs,
    async roundTripMs(count = 300) {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const url = `${info.telegram.apiRoot}/bot${CALIBRATION_TOKEN}/getMe`;
      const once = (): Promise<void> =>
        new Promise((resolve, reject) =>
          get(url, { agent }, (res) => res.resume().on('end', resolve).on('error', reject)).on('error', reject),
        );
      const times: number[] = [];
      for (let i = 0; i < count; i++) {
        const before = performance.now();
        await once();
        times.push(performance.now() - before);
      }
      agent.destroy();
      await control(info.telegram.apiRoot, '/__fake/clearCalls', {});
      times.sort((a, b) => a - b);
      return times[Math.floor(times.length / 2)] ?? NaN;
    },
    async stop() {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
}
