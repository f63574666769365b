/**
 * Storage outages while users talk: a private Redis killed for a while, then started again
 * (append-only file, fsync always, so it keeps what it acknowledged); the SQLite file made
 * immutable (`chattr +i`: every write fails, as on a read-only volume), then writable; the data
 * volume full (a 2 MB tmpfs filled by another file), then freed. Four users talk one message
 * at a time throughout; every answer is checked against the history its model request carried.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { privateRedis } from '../../harness/redis.js';
import { atLeast, atMost, type Context, info, type Row, type ScenarioResult, sleep } from '../lib/context.js';
import { type Exchange, exchange, historyTurns, REPLIES, REPLIES_YAML, requestsWith } from '../lib/conversation.js';
import { type Fakes, startFakes } from '../lib/fakes.js';
import { type FleetSpec, fleetEnv, fleetYaml, startFleet } from '../lib/fleet.js';
import { callCursor, waitForCall } from '../lib/polling.js';
import { newApiKey, newToken } from '../lib/secrets.js';
import { readRedis, readSqlite, type StoreContents } from '../lib/store.js';

const USERS = [6001, 6002, 6003, 6004];

interface Outage {
  readonly name: string;
  readonly storageUrl: (dir: string) => string;
  /** Prepares the folder before the fleet starts (e.g. mounts the tmpfs); false: cannot run here. */
  readonly prepare?: (dir: string) => Promise<boolean>;
  readonly fault: (dir: string) => Promise<void>;
  readonly recover: (dir: string) => Promise<void>;
  readonly read: (dir: string, namespace: string) => Promise<StoreContents>;
  readonly cleanup?: (dir: string) => Promise<void>;
  readonly outageMs: number;
}

interface Judged extends Exchange {
  readonly user: number;
  readonly phase: 'before' | 'outage' | 'after';
  /** Earlier turns the model saw, when it was asked. */
  readonly history: number | undefined;
  /** Acknowledged turns of this chat before this message. */
  readonly acknowledged: number;
}

async function talk(
  fakes: Fakes,
  token: string,
  user: number,
  phase: () => Judged['phase'],
  running: () => boolean,
  out: Exchange[] & { user?: number }[],
): Promise<void> {
  let n = 0;
  while (running()) {
    const p = phase();
    const ex = await exchange(fakes, token, user, `S${user}-${++n}Z`, { timeoutMs: 8000, settleMs: 300 });
    (out as (Exchange & { user: number; phase: Judged['phase'] })[]).push({ ...ex, user, phase: p });
    await sleep(100);
  }
}

async function runOutage(ctx: Context, outage: Outage): Promise<ScenarioResult> {
  const scenario = `storage outage: ${outage.name}`;
  const dir = await mkdtemp(join(tmpdir(), 'botfleet-faults-outage-'));
  if (outage.prepare !== undefined && !(await outage.prepare(dir))) {
    await rm(dir, { recursive: true, force: true });
    return {
      rows: [info(scenario, 'not run', 'this machine cannot make it (see notes)')],
      notes: [`${scenario}: not run: this machine cannot make the fault (mount or chattr failed).`],
      outsiderModelCalls: 0,
      crashes: 0,
    };
  }
  const fakes = await startFakes({ modelMs: 20 });
  const token = newToken(7_200_001);
  await fakes.addBot(token);
  const namespace = `faults-outage-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const spec: FleetSpec = {
    storageUrl: outage.storageUrl(dir),
    namespace,
    apiRoot: fakes.apiRoot,
    baseUrl: fakes.baseUrl,
    apiKey: newApiKey(),
    bots: [{ id: 'o0', token }],
    users: USERS,
    defaults: [REPLIES_YAML, `telegram: { apiRoot: "${fakes.apiRoot}" }`],
  };
  await writeFile(join(dir, 'bots.yaml'), fleetYaml(spec));
  const since = await callCursor(fakes);
  const fleet = startFleet(dir, fleetEnv(spec), { label: scenario });
  let crashes = 0;
  try {
    await waitForCall(fakes, token, 'getUpdates', since);
    let phase: Judged['phase'] = 'before';
    let running = true;
    const exchanges: (Exchange & { user: number; phase: Judged['phase'] })[] = [];
    const talkers = USERS.map((u) =>
      talk(
        fakes,
        token,
        u,
        () => phase,
        () => running,
        exchanges,
      ),
    );
    const outsider = fakes.say(token, 990_002, 'OUTSIDER during the outage');
    await sleep(ctx.quick ? 1000 : 4000);
    await outage.fault(dir);
    phase = 'outage';
    const faultAt = Date.now();
    await sleep(outage.outageMs / 2);
    await fakes.say(token, 990_002, 'OUTSIDER again');
    await sleep(outage.outageMs / 2);
    await outage.recover(dir);
    const recoveredAt = Date.now();
    phase = 'after';
    await sleep(ctx.quick ? 3000 : 10_000);
    running = false;
    await Promise.all(talkers);
    await outsider;
    if (fleet.child.exitCode !== null || fleet.child.signalCode !== null) crashes++;
    const exit = await fleet.stop();
    if (exit.code !== 0) crashes++;
    const requests = await fakes.requests();
    const contents = await outage.read(dir, namespace);
    // A replies.storeFailed note may come long after its answer (a write that fails slowly),
    // after the next message was sent: charge each note to the answer before it in its chat.
    const sent = await fakes.sent(token);
    for (const user of USERS) {
      const mine = exchanges.filter((ex) => ex.user === user);
      for (const note of sent.filter((m) => m.chatId === user && m.text === REPLIES.storeFailed)) {
        const answer = [...mine].reverse().find((ex) => ex.repliedAt !== undefined && ex.repliedAt <= note.wallAt);
        if (answer?.outcome === 'answer') Object.assign(answer, { outcome: 'answer+storeFailed' });
      }
    }

    // Judge each exchange in order per chat: acknowledged turns so far vs the history the model saw.
    const judged: Judged[] = [];
    const acked = new Map<number, string[]>();
    for (const ex of exchanges) {
      const list = acked.get(ex.user) ?? [];
      judged.push({ ...ex, history: historyTurns(requests, ex.text), acknowledged: list.length });
      if (ex.outcome === 'answer') list.push(ex.text);
      acked.set(ex.user, list);
    }
    const served = (j: Judged): boolean =>
      (j.outcome === 'answer' || j.outcome === 'answer+storeFailed') && (j.history ?? -1) >= j.acknowledged;
    const emptyMemory = judged.filter(
      (j) => (j.outcome === 'answer' || j.outcome === 'answer+storeFailed') && (j.history ?? -1) < j.acknowledged,
    ).length;
    const told = judged.filter((j) => j.outcome === 'storageError').length;
    const unanswered = judged.filter(
      (j) => !served(j) && j.outcome !== 'storageError' && j.outcome !== 'answer' && j.outcome !== 'answer+storeFailed',
    ).length;
    const notServed = told + emptyMemory + unanswered;
    // Full service: the first answer (whole, stored, full history) after the last message that was not.
    const lastBad = judged.filter((j) => !(j.outcome === 'answer' && served(j))).sort((a, b) => b.sentAt - a.sentAt)[0];
    const firstGood = judged
      .filter((j) => j.outcome === 'answer' && served(j) && j.sentAt >= (lastBad?.sentAt ?? 0) && j.sentAt >= faultAt)
      .sort((a, b) => (a.repliedAt ?? 0) - (b.repliedAt ?? 0))[0];
    const recoverySeconds =
      lastBad === undefined || lastBad.sentAt < faultAt
        ? 0
        : firstGood?.repliedAt === undefined
          ? Infinity
          : Math.max(0, (firstGood.repliedAt - recoveredAt) / 1000);
    let lost = 0;
    for (const [user, texts] of acked) {
      const conversation = contents.conversations.find((c) => c.key === `${namespace}:o0:${user}`);
      const stored = new Set((conversation?.turns ?? []).map((t) => t.user));
      lost += texts.filter((t) => !stored.has(t)).length;
    }
    const during = judged.filter((j) => j.phase === 'outage');
    const rows: Row[] = [
      info(
        scenario,
        'messages (during the outage): told to retry / answered, not stored / answered / nothing',
        `${judged.length} (${during.length}): ${told} / ${judged.filter((j) => j.outcome === 'answer+storeFailed').length} / ${judged.filter((j) => j.outcome === 'answer').length} / ${unanswered}`,
      ),
      atMost(scenario, 'process crashes', crashes, 0),
      atLeast(
        scenario,
        'users told to retry rather than answered from an empty memory (of the messages not served from full memory)',
        notServed === 0 ? 100 : (100 * told) / notServed,
        100,
        '%',
      ),
      atMost(scenario, 'answers from a memory missing acknowledged turns', emptyMemory, 0),
      atMost(scenario, 'time to full service after recovery', recoverySeconds, 5, ' s'),
      atMost(scenario, 'acknowledged turns lost', lost, 0),
    ];
    return {
      rows,
      notes: [
        `${scenario}: ${USERS.length} users, one message at a time each; the fault lasted ${((recoveredAt - faultAt) / 1000).toFixed(1)} s. "Told to retry" = replies.storageError; "answered, not stored" = the answer with full memory, then replies.storeFailed (not acknowledged as remembered). Full service = every message after it answered and stored, from its full history.`,
      ],
      outsiderModelCalls: requestsWith(requests, 'OUTSIDER'),
      crashes,
    };
  } finally {
    await fleet.stop();
    await fakes.stop();
    await outage.cleanup?.(dir);
    if (process.env.FAULTS_KEEP === undefined) await rm(dir, { recursive: true, force: true });
    else ctx.progress(`kept ${dir}`);
  }
}

function chattr(flag: '+i' | '-i', dir: string): void {
  for (const name of ['faults.sqlite', 'faults.sqlite-wal']) {
    const file = join(dir, 'data', name);
    if (existsSync(file)) execFileSync('chattr', [flag, file]);
  }
}

/** Fills the volume at `dir` with one file until the disk is full. */
async function fill(path: string): Promise<void> {
  const { open } = await import('node:fs/promises');
  const handle = await open(path, 'w');
  try {
    for (const size of [1 << 16, 1 << 12, 512]) {
      const block = Buffer.alloc(size);
      for (;;) {
        const written = await handle.write(block).then(
          (r) => r.bytesWritten,
          () => 0, // ENOSPC: the volume is full at this block size; go on with a smaller one
        );
        if (written < size) break;
      }
    }
  } finally {
    await handle.close();
  }
}

export async function storageOutage(ctx: Context): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  const redisDir = await mkdtemp(join(tmpdir(), 'botfleet-faults-redis-'));
  const redis = await privateRedis(redisDir);
  await redis.start();
  try {
    ctx.progress('outage: Redis');
    results.push(
      await runOutage(ctx, {
        name: 'Redis stopped, then started',
        storageUrl: () => redis.url,
        fault: () => redis.kill(),
        recover: () => redis.start(),
        read: (_dir, namespace) => readRedis(redis.port, namespace),
        outageMs: ctx.quick ? 2000 : 30_000,
      }),
    );
  } finally {
    await redis.kill();
    await rm(redisDir, { recursive: true, force: true });
  }
  ctx.progress('outage: SQLite read-only');
  results.push(
    await runOutage(ctx, {
      name: 'SQLite file read-only (chattr +i), then writable',
      storageUrl: () => 'sqlite://data/faults.sqlite',
      prepare: async (dir) => {
        try {
          await writeFile(join(dir, 'probe'), '');
          execFileSync('chattr', ['+i', join(dir, 'probe')], { stdio: 'ignore' });
          execFileSync('chattr', ['-i', join(dir, 'probe')], { stdio: 'ignore' });
          return true;
        } catch {
          // No chattr, not root, or a file system without the immutable flag: reported as not run.
          return false;
        }
      },
      fault: async (dir) => chattr('+i', dir),
      recover: async (dir) => chattr('-i', dir),
      cleanup: async (dir) => chattr('-i', dir),
      read: async (dir, namespace) => readSqlite(join(dir, 'data', 'faults.sqlite'), namespace),
      outageMs: ctx.quick ? 2000 : 15_000,
    }),
  );
  ctx.progress('outage: data volume full');
  results.push(
    await runOutage(ctx, {
      name: 'data volume full (2 MB tmpfs), then freed',
      storageUrl: () => 'sqlite://data/faults.sqlite',
      prepare: async (dir) => {
        await mkdir(join(dir, 'data'));
        try {
          execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', join(dir, 'data')], { stdio: 'ignore' });
          return true;
        } catch {
          // Not root, or no mount in this container: the scenario is reported as not run.
          return false;
        }
      },
      fault: (dir) => fill(join(dir, 'data', 'filler')),
      recover: async (dir) => rm(join(dir, 'data', 'filler'), { force: true }),
      read: async (dir, namespace) => readSqlite(join(dir, 'data', 'faults.sqlite'), namespace),
      cleanup: async (dir) => {
        try {
          execFileSync('umount', [join(dir, 'data')], { stdio: 'ignore' });
        } catch {
          // Already unmounted (or never mounted): nothing to undo.
        }
      },
      outageMs: ctx.quick ? 2000 : 15_000,
    }),
  );
  return results;
}
