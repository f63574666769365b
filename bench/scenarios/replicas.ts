/**
 * Scenario 10, replicas on one Redis: two `botfleet run` processes share 50 bots through leases
 * on a private redis-server (so other users of the shared one do not blur its command counts).
 * Measured: the cost of holding the leases (Redis commands per second per bot, from INFO
 * commandstats deltas over an idle window, the harness's own INFO calls left out), and the
 * failover time: kill -9 of one replica → every bot it held polling again from the other,
 * seen by the fake Bot API.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFakes } from '../lib/fakes.js';
import { CLI_PATH } from '../lib/paths.js';
import { callCursor, waitForPolling } from '../lib/polling.js';
import { atMost, row } from '../lib/report.js';
import { botId, makeTokens, type RunningSystem } from '../lib/sut.js';
import { round, type ScenarioContext, type ScenarioResult } from './context.js';

const BOTS = 50;
const IDLE_WINDOW_MS = 10_000;
const FAILOVER_GOAL_MS = 10_000;

interface Replica {
  readonly child: ChildProcess;
  readonly held: Set<string>;
  readonly exited: Promise<unknown>;
  output(): string;
}

export async function replicas(ctx: ScenarioContext): Promise<ScenarioResult> {
  const title = `10 replicas (${BOTS} bots, 2 replicas on one Redis)`;
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const redis = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const fakes = await startFakes({ recordGetUpdates: true });
  const dir = await mkdtemp(join(tmpdir(), 'bench-replicas-'));
  const running: Replica[] = [];
  try {
    await waitUntil(
      async () => (await redisCommand(port, ['PING'])).startsWith('+PONG'),
      10_000,
      'the private redis-server',
    );
    const tokens = makeTokens(BOTS, `${process.pid}r`);
    await fakes.addBots(tokens);
    await writeFile(join(dir, 'bots.yaml'), fleetYaml(port, fakes.apiRoot, fakes.baseUrl, tokens));
    const start = (): Replica => {
      const replica = launch(dir);
      running.push(replica);
      return replica;
    };
    const [a, b] = [start(), start()];
    const balanced = (): boolean => a.held.size === BOTS / 2 && b.held.size === BOTS / 2;
    await waitUntil(balanced, 30_000, 'the bots to spread 25/25 over the two replicas');
    ctx.progress('  replicas: balanced; measuring the lease commands at idle');

    const before = commandCalls(await redisCommand(port, ['INFO', 'commandstats']));
    const startedAt = performance.now();
    await sleep(IDLE_WINDOW_MS);
    const after = commandCalls(await redisCommand(port, ['INFO', 'commandstats']));
    const seconds = (performance.now() - startedAt) / 1000;
    const calls = [...after].map(([name, count]) => [name, count - (before.get(name) ?? 0)] as const);
    const total = calls.filter(([name]) => name !== 'info').reduce((sum, [, count]) => sum + count, 0);
    const perBot = total / seconds / BOTS;
    // What the replicas send (the rest runs inside the scripts): at idle, EVAL and MGET only.
    const sent = calls.filter(([name]) => name === 'eval' || name === 'mget').reduce((sum, [, n]) => sum + n, 0);
    const sentPerBot = sent / seconds / BOTS;

    ctx.progress('  replicas: kill -9 of one replica');
    const killedTokens = tokens.filter((_, i) => a.held.has(botId(i)));
    const since = await callCursor(fakes);
    const killedAt = fakes.fakeNow();
    a.child.kill('SIGKILL');
    const first = await waitForPolling(fakes, asSystem(b), killedTokens, since, 30_000);
    const failoverMs = Math.max(...first.values()) - killedAt;

    return {
      id: 10,
      title,
      rows: [
        row({
          scenario: title,
          figure: 'failover: kill -9 → every bot polling again',
          unit: 'ms',
          digits: 0,
          botfleet: failoverMs,
          goal: atMost(FAILOVER_GOAL_MS, '≤ 10 s'),
        }),
        row({
          scenario: title,
          figure: 'lease upkeep: Redis commands run per second per bot, inside scripts too (idle)',
          unit: '',
          digits: 3,
          botfleet: perBot,
        }),
        row({
          scenario: title,
          figure: 'lease upkeep: requests sent to Redis per second per bot (idle)',
          unit: '',
          digits: 3,
          botfleet: sentPerBot,
        }),
      ],
      notes: [
        `Scenario 10: ${killedTokens.length} bots held by the killed replica all polled again from the other ${Math.round(failoverMs)} ms after the SIGKILL (lease TTL 6 s, renewed every 2 s, rebalanced every 1 s). ` +
          `At idle the two replicas sent ${total} Redis commands in ${seconds.toFixed(1)} s (${calls
            .filter(([name, count]) => name !== 'info' && count > 0)
            .map(([name, count]) => `${name} ${count}`)
            .join(
              ', ',
            )}): ${perBot.toFixed(3)} per second per bot, of which ${sentPerBot.toFixed(3)} requests sent (EVAL, MGET); the requests are per replica, not per bot (one renewal script for all the leases a replica holds), the work inside the renewal script is one GET and one PEXPIRE per lease every 2 s.`,
      ],
      details: {
        bots: BOTS,
        failoverMs: round(failoverMs),
        commandsPerSecondPerBot: round(perBot, 4),
        requestsPerSecondPerBot: round(sentPerBot, 4),
        calls,
      },
      charts: [],
      profiles: [],
    };
  } finally {
    for (const replica of running) replica.child.kill('SIGTERM');
    await Promise.race([Promise.all(running.map((r) => r.exited)), sleep(15_000)]);
    for (const replica of running) replica.child.kill('SIGKILL');
    redis.kill('SIGKILL');
    await fakes.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function fleetYaml(port: number, apiRoot: string, baseUrl: string, tokens: readonly string[]): string {
  return [
    'version: 1',
    `storage: { url: "redis://127.0.0.1:${port}", namespace: "bench-replicas" }`,
    'providers:',
    `  fake: { baseUrl: "${baseUrl}", apiKey: bench-key }`,
    'defaults:',
    '  provider: fake',
    `  telegram: { apiRoot: "${apiRoot}" }`,
    'bots:',
    ...tokens.map((token, i) => `  ${botId(i)}: { token: "${token}" }`),
    '',
  ].join('\n');
}

/** A replica process; `held` follows its log (lease taken, handed over, lost). */
function launch(dir: string): Replica {
  const child = spawn(process.execPath, [CLI_PATH, 'run', '--config', 'bots.yaml', '--no-watch'], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const held = new Set<string>();
  let output = '';
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    output = `${output}${line}\n`.slice(-20_000);
    const entry = JSON.parse(line) as { msg?: string; bot?: string };
    if (entry.bot === undefined) return;
    if (entry.msg?.startsWith('lease taken')) held.add(entry.bot);
    if (entry.msg?.startsWith('handing the bot over') || entry.msg?.startsWith('lease lost')) held.delete(entry.bot);
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { child, held, exited, output: () => output };
}

/** Just what waitForPolling uses of a running system: its kind and output. */
function asSystem(replica: Replica): RunningSystem {
  return {
    kind: 'botfleet',
    outputTail: (lines = 20) => replica.output().split('\n').slice(-lines).join('\n'),
  } as RunningSystem;
}

/** `cmdstat_NAME:calls=N,...` lines of INFO commandstats, as name → calls. */
function commandCalls(info: string): Map<string, number> {
  const calls = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(match[1] ?? '', Number(match[2]));
  return calls;
}

/** One command on a fresh connection; resolves with the raw reply text. */
function redisCommand(port: number, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(5000, () => socket.destroy(new Error('redis: no answer within 5 s')));
    socket.on('error', reject);
    socket.on('connect', () =>
      socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`),
    );
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      const bulk = /^\$(\d+)\r\n/.exec(reply);
      const complete = bulk ? reply.length >= bulk[0].length + Number(bulk[1]) + 2 : reply.endsWith('\r\n');
      if (!complete) return;
      socket.destroy();
      resolve(reply);
    });
  });
}

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      // Not there yet (a refused connection while redis-server starts): try again until the deadline.
      if (performance.now() > deadline) throw error;
    }
    if (performance.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(50);
  }
}
