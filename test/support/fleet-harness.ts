/**
 * Runs the real fleet in-process against the project's fake Bot API and fake OpenAI server,
 * with a config file written to a temp folder, and captures its log lines.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FleetHandle, type FleetOptions, startFleet } from '../../src/app.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { FleetConfig } from '../../src/config/types.js';
import type { Logger } from '../../src/logger.js';
import { type FakeOpenAI, startFakeOpenAI } from '../fakes/openai-api.js';
import { type FakeTelegram, startFakeTelegram } from '../fakes/telegram-api.js';
import { captureLog, type LogLine } from './capture-log.js';
import { deleteRedisNamespace } from './redis.js';

/** One bot of a test fleet: YAML lines under `bots.<id>:` beyond the token. */
export interface TestBot {
  readonly id: string;
  readonly token: string;
  readonly yaml?: string;
  /** false: the fake Bot API does not know the token (it answers 401). Default true. */
  readonly known?: boolean;
}

/** A fleet under test and the fakes around it. */
export interface FleetHarness {
  readonly telegram: FakeTelegram;
  readonly openai: FakeOpenAI;
  /** Temp folder holding config/bots.yaml (and data/ for SQLite). */
  readonly dir: string;
  readonly configPath: string;
  /** The storage namespace the config names (one per harness). */
  readonly namespace: string;
  /** Writes config/bots.yaml for `bots` (registering their tokens with the fake) and returns it. */
  writeConfig(
    bots: readonly TestBot[],
    options?: { storageUrl?: string; defaults?: string; provider?: string; server?: string },
  ): Promise<string>;
  /** Loads config/bots.yaml and starts the fleet; waits until every bot polls (or gave up). */
  start(options?: FleetOptions): Promise<{ fleet: FleetHandle; config: FleetConfig }>;
  /** Log lines of every fleet started so far. */
  logs(): LogLine[];
  /** The logger the fleets write to (for a reloader under test). */
  readonly logger: Logger;
  /** Stops the running fleet (if any), the fakes, and removes the temp folder. */
  close(): Promise<void>;
}

/** Fast lifecycle timings so tests never wait seconds for a retry. */
export const FAST_LIFECYCLE = {
  initTimeoutMs: 2000,
  retryInitialMs: 50,
  retryMaxMs: 400,
  pollTimeoutSeconds: 5,
} as const;

/** Starts both fakes and a temp folder. */
export async function createFleetHarness(): Promise<FleetHarness> {
  const [telegram, openai, dir] = await Promise.all([
    startFakeTelegram(),
    startFakeOpenAI(),
    mkdtemp(join(tmpdir(), 'botfleet-fleet-')),
  ]);
  const configPath = join(dir, 'bots.yaml');
  const log = captureLog();
  const running: FleetHandle[] = [];
  const namespace = `test-${randomUUID().slice(0, 8)}`;
  const redisUrls = new Set<string>();
  return {
    telegram,
    openai,
    dir,
    configPath,
    namespace,
    async writeConfig(bots, options = {}) {
      if (options.storageUrl?.startsWith('redis')) redisUrls.add(options.storageUrl);
      for (const bot of bots) if (bot.known !== false) telegram.addBot(bot.token, { username: `${bot.id}_bot` });
      const lines = [
        'version: 1',
        // A namespace per harness keeps runs apart on the shared Redis.
        `storage: { url: "${options.storageUrl ?? 'sqlite://data/botfleet.sqlite'}", namespace: "${namespace}" }`,
        ...(options.server === undefined ? [] : [`server: ${options.server}`]),
        `providers:`,
        `  fake: { baseUrl: "${openai.baseUrl}", apiKey: test-key, maxRetries: 0${options.provider ? `, ${options.provider}` : ''} }`,
        'defaults:',
        '  provider: fake',
        `  telegram: { apiRoot: "${telegram.apiRoot}" }`,
        ...(options.defaults ?? '')
          .split('\n')
          .filter(Boolean)
          .map((line) => `  ${line}`),
        'bots:',
        ...bots.flatMap((bot) => [
          `  ${bot.id}:`,
          `    token: "${bot.token}"`,
          ...(bot.yaml ?? '')
            .split('\n')
            .filter(Boolean)
            .map((line) => `    ${line}`),
        ]),
      ];
      // Save the way editors do: write a new file, then rename it over the old one.
      await writeFile(`${configPath}.tmp`, `${lines.join('\n')}\n`);
      await rename(`${configPath}.tmp`, configPath);
      return configPath;
    },
    async start(options = {}) {
      const config = await loadConfig({ file: 'bots.yaml', cwd: dir, env: {} });
      const fleet = await startFleet(config, log.logger, {
        lifecycle: FAST_LIFECYCLE,
        typingIntervalMs: 200,
        ...options,
      });
      running.push(fleet);
      await Promise.all([...fleet.bots.values()].map((bot) => bot.ready));
      return { fleet, config };
    },
    logs: () => log.lines(),
    logger: log.logger,
    async close() {
      await Promise.all(running.map((fleet) => fleet.stop(2000)));
      await Promise.all([telegram.close(), openai.close()]);
      for (const url of redisUrls) await deleteRedisNamespace(url, namespace);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The system and conversation messages of a recorded model request, as `role: content`. */
export function transcript(body: Record<string, unknown> | undefined): string[] {
  const messages = (body?.messages ?? []) as { role: string; content: string }[];
  return messages.map((message) => `${message.role}: ${message.content}`);
}
