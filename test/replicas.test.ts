/**
 * Three `botfleet run` processes on the real Redis (own namespace) and 30 bots on the fake Bot
 * API, which answers a second concurrent getUpdates on one token with 409. Every bot is polled
 * by exactly one replica; a replica killed with SIGKILL loses its bots to the others within
 * the lease bound; started again, it gets its share back with no 409 and no message lost.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI_PATH } from './support/cli.js';
import { createFleetHarness, type FleetHarness } from './support/fleet-harness.js';
import { SHARED_REDIS_URL } from './support/redis.js';
import { waitFor } from './support/wait-for.js';

const BOTS = Array.from({ length: 30 }, (_, i) => ({ id: `r${i}`, token: `${8500 + i}:replica-token-${i}` }));

interface Replica {
  readonly name: string;
  readonly child: ChildProcess;
  /** The bots this replica polls now, from its log (lease taken, handed over, lost). */
  readonly held: Set<string>;
  output(): string;
  exited: Promise<number | null>;
}

describe('replicas on one Redis', () => {
  let h: FleetHarness;
  let replicas: Replica[] = [];
  beforeEach(async () => {
    h = await createFleetHarness();
    await h.writeConfig(BOTS, { storageUrl: SHARED_REDIS_URL });
  });
  afterEach(async () => {
    for (const r of replicas) r.child.kill('SIGKILL');
    await Promise.all(replicas.map((r) => r.exited));
    replicas = [];
    await h.close();
  });

  const launch = (name: string): Replica => {
    const child = spawn(process.execPath, [CLI_PATH, 'run', '--config', 'bots.yaml', '--no-watch'], {
      cwd: h.dir,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const held = new Set<string>();
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      output += `${line}\n`;
      const entry = JSON.parse(line) as { msg?: string; bot?: string };
      if (entry.bot === undefined) return;
      if (entry.msg?.startsWith('lease taken')) held.add(entry.bot);
      if (entry.msg?.startsWith('handing the bot over') || entry.msg?.startsWith('lease lost')) held.delete(entry.bot);
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const replica = { name, child, held, output: () => output, exited };
    replicas.push(replica);
    return replica;
  };

  const live = (): Replica[] => replicas.filter((r) => r.child.exitCode === null && r.child.signalCode === null);
  const holders = (bot: string): string[] =>
    live()
      .filter((r) => r.held.has(bot))
      .map((r) => r.name);
  const balanced = (count: number): boolean =>
    live().length === count &&
    BOTS.every((bot) => holders(bot.id).length === 1) &&
    live().every((r) => r.held.size === 30 / count);
  const conflicts = (): number =>
    BOTS.flatMap((bot) => h.telegram.calls(bot.token, 'getUpdates')).filter((call) => call.outcome?.status === 409)
      .length;

  /** Sends one message to every bot, each in a chat of its own (`round` tells the rounds apart). */
  const sendRound = (round: number): void => {
    for (const [i, bot] of BOTS.entries()) {
      const chat = round * 1000 + i;
      h.telegram.sendText(bot.token, { chatId: chat, userId: chat, text: `round ${round}` });
    }
  };
  /** The replies of `round`, per bot (a reply twice shows as 2). */
  const replies = (round: number): number[] =>
    BOTS.map((bot, i) => h.telegram.sentMessages(bot.token, round * 1000 + i).length);
  const allAnswered = (round: number): boolean => replies(round).every((count) => count >= 1);

  it('polls each bot from one replica, fails over after kill -9, and rebalances when it is back', async () => {
    const [a, b, c] = [launch('a'), launch('b'), launch('c')];
    await waitFor(() => balanced(3), { timeoutMs: 20_000, what: 'the 30 bots spread 10/10/10 over 3 replicas' });
    sendRound(1);
    await waitFor(() => allAnswered(1), { timeoutMs: 10_000, what: 'round 1 answered' });

    const killedBots = [...a.held];
    // Replies in flight on the replica about to die: its bots' messages wait for a slow model.
    h.openai.setLatency(3000);
    const inFlight = BOTS.flatMap((bot, i) => (a.held.has(bot.id) ? [{ bot, chat: 900_000 + i }] : []));
    const modelSeq = h.openai.nextSeq();
    for (const { bot, chat } of inFlight)
      h.telegram.sendText(bot.token, { chatId: chat, userId: chat, text: 'in flight' });
    await waitFor(() => h.openai.requestsSince(modelSeq).length >= inFlight.length, {
      timeoutMs: 10_000,
      what: 'the model requests of the doomed replica',
    });
    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    await a.exited;
    h.openai.setLatency(0);
    sendRound(2);
    await waitFor(() => allAnswered(2), { timeoutMs: 20_000, what: 'round 2 answered after the kill' });
    const failoverMs = Date.now() - killedAt;
    // The killed replica's in-flight updates: answered by the new holder, none lost, none twice
    // (the killed replica never got its model's answer, so it sent nothing).
    const inFlightReplies = () => inFlight.map(({ bot, chat }) => h.telegram.sentMessages(bot.token, chat).length);
    await waitFor(() => inFlightReplies().every((count) => count >= 1), {
      timeoutMs: 20_000,
      what: "the killed replica's in-flight updates answered",
    });
    console.info(
      `replicas: kill -9 of a replica holding ${killedBots.length} bots -> all answered in ${failoverMs} ms`,
    );
    expect(killedBots.filter((bot) => holders(bot).length !== 1)).toEqual([]);
    await waitFor(() => balanced(2), { timeoutMs: 10_000, what: 'the 30 bots spread 15/15 over b and c' });

    const back = launch('a2');
    sendRound(3);
    await waitFor(() => balanced(3), { timeoutMs: 30_000, what: 'the bots rebalanced over 3 replicas again' });
    await waitFor(() => allAnswered(3), { timeoutMs: 15_000, what: 'round 3 answered during the rebalance' });
    sendRound(4);
    await waitFor(() => allAnswered(4), { timeoutMs: 10_000, what: 'round 4 answered after the rebalance' });

    // No update was answered twice (nothing was in flight at the kill), none lost, no 409.
    for (const round of [1, 2, 3, 4]) expect(replies(round)).toEqual(BOTS.map(() => 1));
    expect(inFlightReplies()).toEqual(inFlight.map(() => 1));
    expect(conflicts()).toBe(0);
    expect(back.held.size).toBe(10);

    for (const r of [b, c, back]) r.child.kill('SIGTERM');
    expect(await Promise.all([b.exited, c.exited, back.exited])).toEqual([0, 0, 0]);
    expect(conflicts()).toBe(0);
  }, 90_000);
});
