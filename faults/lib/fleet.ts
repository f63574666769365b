/**
 * botfleet as its own process: `node dist/cli.js run --config bots.yaml` in a folder of the
 * suite's, the secrets in its environment, its output in a file (kept for the secret scan).
 * It can be killed with any signal and started again in the same folder; `fsizeBytes` runs it
 * under `prlimit --fsize` (a full disk, as the process sees it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_PATH } from './paths.js';
import { keep } from './secrets.js';

/** A bot of the fleet: its id, token and the environment variable that carries it. */
export interface FleetBot {
  readonly id: string;
  readonly token: string;
  /** More settings of this bot, YAML flow-mapping entries (`model: x, streaming: off`). */
  readonly extra?: string;
}

/** What the YAML is made of. */
export interface FleetSpec {
  readonly storageUrl: string;
  readonly namespace: string;
  readonly apiRoot: string;
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly bots: readonly FleetBot[];
  /** `access.users` (null: everyone). */
  readonly users?: readonly number[] | null;
  /** Extra lines under `defaults:` (without their indent). */
  readonly defaults?: readonly string[];
  /** Extra provider settings, `key: value` pairs, e.g. `maxRetries: 1`. */
  readonly provider?: readonly string[];
  readonly serverPort?: number;
  readonly maxTurns?: number;
  /** More providers, whole YAML lines under `providers:` (without their indent); the key may be
   * written as `\${FAULT_API_KEY}`. */
  readonly providers?: readonly string[];
}

/** The config file for `spec`; tokens and the key come from the environment (`env(spec)`). */
export function fleetYaml(spec: FleetSpec): string {
  const users = spec.users === undefined || spec.users === null ? 'null' : `[${spec.users.join(', ')}]`;
  return [
    'version: 1',
    `storage: { url: "${spec.storageUrl}", namespace: "${spec.namespace}" }`,
    ...(spec.serverPort === undefined ? [] : [`server: { port: ${spec.serverPort} }`]),
    'providers:',
    `  fake: { baseUrl: "${spec.baseUrl}", apiKey: "\${FAULT_API_KEY}"${(spec.provider ?? []).map((p) => `, ${p}`).join('')} }`,
    ...(spec.providers ?? []).map((line) => `  ${line}`),
    'defaults:',
    '  provider: fake',
    `  window: { maxTurns: ${spec.maxTurns ?? 1000}, maxTokens: 100000 }`,
    `  access: { users: ${users} }`,
    ...(spec.defaults ?? []).map((line) => `  ${line}`),
    'bots:',
    ...spec.bots.map(
      (bot, i) => `  ${bot.id}: { token: "\${FAULT_TOKEN_${i}}"${bot.extra === undefined ? '' : `, ${bot.extra}`} }`,
    ),
    '',
  ].join('\n');
}

/** The environment that carries the secrets of `spec`. */
export function fleetEnv(spec: FleetSpec): Record<string, string> {
  const env: Record<string, string> = { FAULT_API_KEY: spec.apiKey };
  for (const [i, bot] of spec.bots.entries()) env[`FAULT_TOKEN_${i}`] = bot.token;
  return env;
}

/** One botfleet process. */
export interface FleetProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves when it exited: its code, or the signal that ended it. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Its output so far. */
  output(): string;
  /** Its output as JSON log lines (lines that do not parse are skipped). */
  logs(): Record<string, unknown>[];
  /** SIGTERM, SIGKILL after `graceMs`; resolves with how it exited. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let started = 0;

/** Starts `node dist/cli.js run` (or `args`) in `dir` with `env` (plus PATH). */
export function startFleet(
  dir: string,
  env: Record<string, string>,
  options: { fsizeBytes?: number; args?: readonly string[]; label?: string } = {},
): FleetProcess {
  const logPath = join(dir, `output-${++started}.log`);
  const fd = openSync(logPath, 'w');
  // FAULTS_NODE_ARGS: options for botfleet's node, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeArgs = process.env.FAULTS_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const cliArgs = [...nodeArgs, CLI_PATH, ...(options.args ?? ['run', '--config', 'bots.yaml'])];
  const [command, args] =
    options.fsizeBytes === undefined
      ? [process.execPath, cliArgs]
      : ['prlimit', [`--fsize=${options.fsizeBytes}`, '--', process.execPath, ...cliArgs]];
  const child = spawn(command, args, {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error('faults: could not start botfleet');
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const label = options.label ?? `botfleet output ${logPath}`;
  let kept = false;
  void exited.then(() => {
    kept = true;
    keep(label, read());
  });
  const read = (): string => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : '');
  return {
    pid: child.pid,
    child,
    exited,
    output: read,
    logs: () =>
      read()
        .split('\n')
        .flatMap((line) => {
          if (!line.startsWith('{')) return [];
          try {
            return [JSON.parse(line) as Record<string, unknown>];
          } catch {
            // A line cut by SIGKILL mid-write: not a log line to read.
            return [];
          }
        }),
    async stop(graceMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(killer);
      if (!kept) keep(label, read());
      return result;
    },
  };
}

/** Whether an exit was a crash: not 0 and not ended by the suite's own signal. */
export function crashed(exit: { code: number | null; signal: NodeJS.Signals | null }): boolean {
  return exit.signal === null ? exit.code !== 0 : false;
}
