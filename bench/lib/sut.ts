/**
 * The system under test as its own process: botfleet (`node dist/cli.js run --config
 * bots.yaml` in a temp folder) or the seed-style baseline (bench/baseline/seed-bot.ts), both
 * pointed at the fakes, with SQLite in the temp folder or the shared Redis under a namespace
 * of their own.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { deleteKeys, SHARED_REDIS_PORT, SHARED_REDIS_URL } from '../../harness/redis.js';
import type { Fakes } from './fakes.js';
import { BASELINE_ENTRY, CLI_PATH, GC_PRELOAD } from './paths.js';
import { type PrefillSpec, prefillConversations } from './prefill.js';
import { cpuSeconds, memoryMb } from './proc.js';

/** Which design runs. */
export type SystemKind = 'botfleet' | 'baseline';
/** Which storage backend it uses (memory: botfleet only, a Map in its process). */
export type StorageKind = 'sqlite' | 'redis' | 'memory';

/** The conversation window both designs are given: botfleet keeps the newest turns that fit
 * both limits; the baseline trims to `maxTurns` only, as the seed did. */
export interface WindowSize {
  readonly maxTurns: number;
  readonly maxTokens: number;
}

/** The product's default window. */
export const DEFAULT_WINDOW: WindowSize = { maxTurns: 20, maxTokens: 8000 };

/** Options of `startSystem`. */
export interface SystemOptions {
  readonly kind: SystemKind;
  readonly fakes: Fakes;
  readonly tokens: readonly string[];
  readonly storage: StorageKind;
  readonly window?: WindowSize;
  /** Write a V8 CPU profile (`node --cpu-prof`) to `dir/name` when the process exits. */
  readonly profile?: { readonly dir: string; readonly name: string };
  /** Let `collectGarbage()` force a full GC in the process (memory measurements). */
  readonly gcOnSignal?: boolean;
  /** botfleet only: turn the ops server (`server.port`, metrics on) on at this port. */
  readonly serverPort?: number;
  /** botfleet only: more YAML lines under `defaults:` (without their indent), other than
   * `provider` and `window`; a `telegram: { … }` line is merged with the apiRoot. */
  readonly defaults?: readonly string[];
  /** botfleet, SQLite or Redis only: writes stored conversations before the process starts. */
  readonly prefill?: PrefillSpec;
}

/** A running system under test. */
export interface RunningSystem {
  readonly kind: SystemKind;
  readonly pid: number;
  /** Local `performance.now()` just before the spawn. */
  readonly spawnedAt: number;
  readonly dir: string;
  readonly configPath: string;
  /** User + system CPU seconds used so far. */
  cpu(): number;
  /** Resident memory now and at its peak, MB. */
  memory(): { rss: number; peak: number };
  /** Asks for a full garbage collection (only with `gcOnSignal`). */
  collectGarbage(): void;
  /** botfleet only: rewrites bots.yaml for `tokens` the way editors save (write a temporary file,
   * rename it into place); resolves with the local time just before the rename. */
  rewriteConfig(tokens: readonly string[]): Promise<number>;
  /** The last lines of its output, for error messages. */
  outputTail(lines?: number): string;
  /** SIGTERM (SIGKILL after `graceMs`, default 15 s), then removes the temp folder and the
   * Redis keys; resolves with the exit code (null when killed). */
  stop(graceMs?: number): Promise<number | null>;
}

/** The bot id of token number `index`. */
export const botId = (index: number): string => `b${String(index + 1).padStart(3, '0')}`;

/** `count` distinct bot tokens of run `run` (the digits before ':' are the bot's user id). */
export function makeTokens(count: number, run: string, first = 0): string[] {
  return Array.from({ length: count }, (_, i) => `${7_000_000 + first + i}:bench-${run}-${first + i}`);
}

/** The settings of a `telegram: { … }` line among `defaults`, to join with the apiRoot. */
function telegramExtra(defaults: readonly string[] | undefined): string {
  const line = defaults?.find((l) => l.startsWith('telegram:'));
  const inner = line?.replace(/^telegram:\s*\{(.*)\}\s*$/, '$1').trim();
  return inner === undefined || inner === '' ? '' : `, ${inner}`;
}

function fleetYaml(options: SystemOptions, tokens: readonly string[], namespace: string): string {
  const window = options.window ?? DEFAULT_WINDOW;
  const url =
    options.storage === 'sqlite'
      ? 'sqlite://data/bench.sqlite'
      : options.storage === 'memory'
        ? 'memory://'
        : SHARED_REDIS_URL;
  return [
    'version: 1',
    `storage: { url: "${url}", namespace: "${namespace}" }`,
    ...(options.serverPort === undefined ? [] : [`server: { port: ${options.serverPort} }`]),
    'providers:',
    `  fake: { baseUrl: "${options.fakes.baseUrl}", apiKey: bench-key }`,
    'defaults:',
    '  provider: fake',
    `  telegram: { apiRoot: "${options.fakes.apiRoot}"${telegramExtra(options.defaults)} }`,
    ...(options.defaults ?? []).filter((line) => !line.startsWith('telegram:')).map((line) => `  ${line}`),
    `  window: { maxTurns: ${window.maxTurns}, maxTokens: ${window.maxTokens} }`,
    'bots:',
    ...tokens.map((token, i) => `  ${botId(i)}: { token: "${token}" }`),
    '',
  ].join('\n');
}

/** The baseline's config (bench/baseline/seed-bot.ts reads it). */
export interface BaselineConfig {
  readonly tokens: readonly string[];
  readonly apiRoot: string;
  readonly baseUrl: string;
  readonly apiKey: string;
  /** `sqlite://ABSOLUTE_PATH` or `redis://…`. */
  readonly storageUrl: string;
  readonly namespace: string;
  readonly maxTurns: number;
  readonly model: string;
  readonly systemPrompt: string;
}

/** Starts the system in a fresh temp folder; does not wait for its bots to poll. */
export async function startSystem(options: SystemOptions): Promise<RunningSystem> {
  const dir = await mkdtemp(join(tmpdir(), `botfleet-bench-${options.kind}-`));
  const namespace = `bench-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  let configPath: string;
  let entryArgs: string[];
  if (options.kind === 'botfleet') {
    configPath = join(dir, 'bots.yaml');
    await writeFile(configPath, fleetYaml(options, options.tokens, namespace));
    entryArgs = [CLI_PATH, 'run', '--config', 'bots.yaml'];
    if (options.prefill !== undefined) {
      if (options.storage === 'memory') throw new Error('bench: memory:// cannot be filled before the start');
      const sqlitePath = join(dir, 'data', 'bench.sqlite'); // fleetYaml's sqlite://data/bench.sqlite
      await prefillConversations(options.prefill, { storage: options.storage, namespace, sqlitePath });
    }
  } else {
    if (options.storage === 'memory') throw new Error('bench: the baseline has no memory storage');
    configPath = join(dir, 'baseline.json');
    const config: BaselineConfig = {
      tokens: options.tokens,
      apiRoot: options.fakes.apiRoot,
      baseUrl: options.fakes.baseUrl,
      apiKey: 'bench-key',
      storageUrl: options.storage === 'sqlite' ? `sqlite://${join(dir, 'baseline.sqlite')}` : SHARED_REDIS_URL,
      namespace,
      maxTurns: (options.window ?? DEFAULT_WINDOW).maxTurns,
      model: 'gpt-4o-mini',
      systemPrompt: 'You are a helpful assistant.',
    };
    await writeFile(configPath, JSON.stringify(config));
    entryArgs = [BASELINE_ENTRY, configPath];
  }
  const profileArgs =
    options.profile === undefined
      ? []
      : ['--cpu-prof', `--cpu-prof-dir=${options.profile.dir}`, `--cpu-prof-name=${options.profile.name}`];
  const logPath = join(dir, 'output.log');
  const logFd = openSync(logPath, 'w'); // a file, not a pipe: a busy harness never back-pressures the logger
  const spawnedAt = performance.now();
  const gcArgs = options.gcOnSignal === true ? ['--expose-gc', '--import', pathToFileURL(GC_PRELOAD).href] : [];
  const child = spawn(process.execPath, [...profileArgs, ...gcArgs, ...entryArgs], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info' },
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`bench: could not start ${options.kind}`);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let savedOutput: string | undefined; // kept when the temp folder is removed
  const readOutput = (): string => {
    try {
      return readFileSync(logPath, 'utf8');
    } catch (error) {
      return `(no output: ${String(error)})`;
    }
  };
  const outputTail = (lines = 20): string => (savedOutput ?? readOutput()).trim().split('\n').slice(-lines).join('\n');
  let stopped: Promise<number | null> | undefined;
  return {
    kind: options.kind,
    pid,
    spawnedAt,
    dir,
    configPath,
    cpu: () => cpuSeconds(pid),
    memory: () => memoryMb(pid),
    collectGarbage() {
      if (options.gcOnSignal !== true)
        throw new Error('bench: start the system with gcOnSignal to collect its garbage');
      process.kill(pid, 'SIGUSR2');
    },
    async rewriteConfig(tokens) {
      if (options.kind !== 'botfleet') throw new Error('bench: only botfleet reads bots.yaml');
      const temporary = join(dir, '.bots.yaml.tmp');
      await writeFile(temporary, fleetYaml(options, tokens, namespace));
      const at = performance.now();
      await rename(temporary, configPath);
      return at;
    },
    outputTail,
    stop(graceMs = 15_000) {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        const code = await exited;
        clearTimeout(killer);
        if (options.storage === 'redis') await deleteKeys(SHARED_REDIS_PORT, `${namespace}*`);
        savedOutput = readOutput();
        await rm(dir, { recursive: true, force: true });
        return code;
      })();
      return stopped;
    },
  };
}
