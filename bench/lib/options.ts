/** Command-line flags of `npm run bench` and the sizes each scenario runs with. */
import { parseArgs } from 'node:util';
import type { StorageKind } from './sut.js';

/** Help text printed by --help. */
export const USAGE = `npm run bench [-- FLAGS]

Runs the benchmark scenarios against botfleet and the seed-style baseline, with the fake Bot
API and fake OpenAI server in a process of their own, and prints the results table.

  --quick              seconds-long smoke run of scenarios 1 to 7 and 9 (CI; add --scenario 8 for the
                       streaming one, about 15 s); results in bench/results/quick.*
  --scenario LIST      scenarios to run, e.g. 2 or 1,3,6 (default: all)
                         1 pipeline limit      4 memory (RSS idle)
                         2 Telegram ceiling    5 start and reload
                         3 slow model          6 cost (tokens per request)
                         7 ops cost (added latency, server off vs on)
                         8 streaming (first token → first text; 429s of 50 chats streaming)
                         9 CPU per message (1 bot, 20 chats closed loop, model 0 ms: SQLite,
                           Redis, memory://, streaming on; the baseline)
                        10 replicas (50 bots, 2 replicas on one Redis: failover after kill -9,
                           lease renewal cost in Redis requests per second per bot)
  --bots N             bots (scenario 2; scenarios 4/5: the large fleet)
  --chats N            chats per bot (scenarios 1, 3 and 9; scenario 8: chats of the flood run)
  --rate N             messages/s per bot (scenario 2)
  --seconds N          measurement window in seconds (scenarios 1, 2, 3, 9; scenario 8: the flood run)
  --model-ms N         model latency in ms (scenarios 1, 2, 3)
  --turns N            conversation length (scenario 6)
  --storage KIND       sqlite, redis or both (scenario 2)
  --sweep LIST         lower rates (messages/s per bot) for the latency-vs-load chart of
                       scenario 2, default 0.5,1,2,3,4 ("none" skips it)
  --no-baseline        run botfleet only
  --profile            profile botfleet (node --cpu-prof) in scenarios 1, 2, 5 and 9, write the
                       profiles to bench/results/profiles/ and print their hot spots
  -h, --help

A full run (no --quick, --profile, scenario or size flags) writes bench/results/latest.md and
latest.json; any other run writes bench/results/custom.*.`;

/** Sizes of every scenario. */
export interface Sizes {
  readonly pipeline: { chats: number; modelMs: number; warmupMs: number; measureMs: number; baseline: boolean };
  readonly ceiling: {
    bots: number;
    ratePerBot: number;
    chatsPerBot: number | undefined;
    modelMs: number;
    warmupMs: number;
    measureMs: number;
    drainMs: number;
    storages: StorageKind[];
    sweep: number[];
    sweepMeasureMs: number;
    baseline: boolean;
  };
  readonly slowModel: { chats: number; modelMs: number; warmupMs: number; measureMs: number };
  readonly fleet: { bots: number; settleMs: number };
  readonly cost: { turns: number };
  readonly opsCost: {
    bots: number;
    ratePerBot: number;
    chatsPerBot: number;
    modelMs: number;
    warmupMs: number;
    measureMs: number;
  };
  /** Scenario 8: replies timed per setting; the flood run's chats, seconds, and its replies'
   * words and ms between words. */
  readonly streaming: { samples: number; chats: number; seconds: number; words: number; wordMs: number };
  /** Scenario 9: chats of the closed loop, warm-up and window per variant. */
  readonly cpuPerMessage: { chats: number; warmupMs: number; measureMs: number };
}

/** Parsed flags. */
export interface BenchOptions {
  readonly quick: boolean;
  readonly scenarios: ReadonlySet<number>;
  readonly sizes: Sizes;
  readonly baseline: boolean;
  readonly profile: boolean;
  /** 'latest' for a full default run, 'quick', or 'custom'. */
  readonly resultName: 'latest' | 'quick' | 'custom';
  readonly help: boolean;
  /** The flags as given, for the results header. */
  readonly argv: readonly string[];
}

const FULL: Sizes = {
  pipeline: { chats: 100, modelMs: 0, warmupMs: 2000, measureMs: 10_000, baseline: true },
  ceiling: {
    bots: 50,
    ratePerBot: 30,
    chatsPerBot: undefined,
    modelMs: 50,
    warmupMs: 3000,
    measureMs: 30_000,
    drainMs: 10_000,
    storages: ['sqlite', 'redis'],
    sweep: [0.5, 1, 2, 3, 4],
    sweepMeasureMs: 6000,
    baseline: true,
  },
  slowModel: { chats: 100, modelMs: 1000, warmupMs: 3000, measureMs: 10_000 },
  fleet: { bots: 50, settleMs: 3000 },
  cost: { turns: 200 },
  opsCost: { bots: 2, ratePerBot: 20, chatsPerBot: 50, modelMs: 100, warmupMs: 2000, measureMs: 15_000 },
  streaming: { samples: 100, chats: 50, seconds: 30, words: 80, wordMs: 100 },
  cpuPerMessage: { chats: 20, warmupMs: 2000, measureMs: 8000 },
};

const QUICK: Sizes = {
  // CI's smoke: every code path once (the baseline in scenarios 3 to 6), as fast as possible.
  pipeline: { chats: 20, modelMs: 0, warmupMs: 300, measureMs: 1000, baseline: false },
  ceiling: {
    bots: 3,
    ratePerBot: 5,
    chatsPerBot: undefined,
    modelMs: 50,
    warmupMs: 300,
    measureMs: 1000,
    drainMs: 5000,
    storages: ['sqlite', 'redis'],
    sweep: [2],
    sweepMeasureMs: 500,
    baseline: false,
  },
  slowModel: { chats: 20, modelMs: 200, warmupMs: 500, measureMs: 1000 },
  fleet: { bots: 3, settleMs: 300 },
  cost: { turns: 10 },
  opsCost: { bots: 1, ratePerBot: 5, chatsPerBot: 5, modelMs: 20, warmupMs: 300, measureMs: 1000 },
  streaming: { samples: 5, chats: 10, seconds: 3, words: 20, wordMs: 100 },
  // The warm-up covers the first reply, which loads the openai SDK and markdown-it.
  cpuPerMessage: { chats: 20, warmupMs: 1500, measureMs: 1000 },
};

function positive(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number >= 0, got "${raw}"`);
  return n;
}

function list(name: string, raw: string | undefined): number[] | undefined {
  if (raw === undefined) return undefined;
  if (raw === 'none') return [];
  return raw.split(',').map((part) => positive(name, part.trim()) as number);
}

/** Parses `argv` (without node and the script). Throws Error with a short message on bad flags. */
export function parseOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      quick: { type: 'boolean' },
      scenario: { type: 'string' },
      bots: { type: 'string' },
      chats: { type: 'string' },
      rate: { type: 'string' },
      seconds: { type: 'string' },
      'model-ms': { type: 'string' },
      turns: { type: 'string' },
      storage: { type: 'string' },
      sweep: { type: 'string' },
      'no-baseline': { type: 'boolean' },
      profile: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const quick = values.quick === true;
  const base = quick ? QUICK : FULL;
  // Scenario 8 takes about 15 s even at its quick sizes (three botfleet starts, streams that
  // last seconds): a quick run leaves it out unless asked for.
  const scenarios =
    list('scenario', values.scenario) ?? (quick ? [1, 2, 3, 4, 5, 6, 7, 9] : [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  for (const s of scenarios)
    if (![1, 2, 3, 4, 5, 6, 7, 8, 9, 10].includes(s)) throw new Error(`--scenario takes numbers 1 to 10, got ${s}`);
  const storage = values.storage;
  if (storage !== undefined && !['sqlite', 'redis', 'both'].includes(storage))
    throw new Error(`--storage must be sqlite, redis or both, got "${storage}"`);
  const bots = positive('bots', values.bots);
  const chats = positive('chats', values.chats);
  const rate = positive('rate', values.rate);
  const seconds = positive('seconds', values.seconds);
  const measureMs = seconds === undefined ? undefined : seconds * 1000;
  const modelMs = positive('model-ms', values['model-ms']);
  const turns = positive('turns', values.turns);
  const sweep = list('sweep', values.sweep);
  const sizes: Sizes = {
    pipeline: {
      ...base.pipeline,
      ...(chats !== undefined && { chats }),
      ...(modelMs !== undefined && { modelMs }),
      ...(measureMs !== undefined && { measureMs }),
    },
    ceiling: {
      ...base.ceiling,
      ...(bots !== undefined && { bots }),
      ...(rate !== undefined && { ratePerBot: rate }),
      ...(modelMs !== undefined && { modelMs }),
      ...(measureMs !== undefined && { measureMs }),
      ...(storage !== undefined && { storages: storage === 'both' ? ['sqlite', 'redis'] : [storage as StorageKind] }),
      ...(sweep !== undefined && { sweep }),
    },
    slowModel: {
      ...base.slowModel,
      ...(chats !== undefined && { chats }),
      ...(modelMs !== undefined && { modelMs }),
      ...(measureMs !== undefined && { measureMs }),
    },
    fleet: { ...base.fleet, ...(bots !== undefined && { bots }) },
    cost: { ...base.cost, ...(turns !== undefined && { turns }) },
    opsCost: { ...base.opsCost, ...(measureMs !== undefined && { measureMs }) },
    streaming: {
      ...base.streaming,
      ...(chats !== undefined && { chats }),
      ...(seconds !== undefined && { seconds }),
    },
    cpuPerMessage: {
      ...base.cpuPerMessage,
      ...(chats !== undefined && { chats }),
      ...(measureMs !== undefined && { measureMs }),
    },
  };
  const custom =
    [bots, chats, rate, seconds, modelMs, turns, storage, sweep, values.scenario].some((v) => v !== undefined) ||
    values['no-baseline'] === true ||
    values.profile === true;
  return {
    quick,
    scenarios: new Set(scenarios),
    sizes,
    baseline: values['no-baseline'] !== true,
    profile: values.profile === true,
    resultName: quick ? 'quick' : custom ? 'custom' : 'latest',
    help: values.help === true,
    argv,
  };
}
