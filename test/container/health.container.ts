/**
 * The image's HEALTHCHECK as Docker runs it: its command, run in the container beside a fleet
 * (the project's fake Bot API and OpenAI on the host; chroot containers share its network),
 * reports healthy for a fleet that polls and unhealthy for one whose only bot's token Telegram
 * rejects.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type SpawnedFakes, spawnFakes } from '../fakes/spawn-fakes.js';
import { freePort } from '../support/redis.js';
import { waitFor } from '../support/wait-for.js';
import { inspectImage, newContainer, removeContainers, requiredEnv, runIn, type Started, startIn } from './buildah.js';

const GOOD_TOKEN = '8401:health-token';
const REJECTED_TOKEN = '8402:rejected-token';

describe("the image's healthcheck", () => {
  let fakes: SpawnedFakes;
  let dir: string;
  let running: Started[] = [];
  let healthcheck: readonly string[] = [];

  beforeAll(async () => {
    const image = await inspectImage(requiredEnv('BOTFLEET_IMAGE'));
    const test = image.Docker.config.Healthcheck?.Test ?? [];
    expect(test).toEqual(['CMD', 'node', 'dist/cli.js', 'health']);
    healthcheck = test.slice(1);
    fakes = await spawnFakes();
    await fakes.telegram('/__fake/bots', { token: GOOD_TOKEN, username: 'health_bot' });
    dir = await mkdtemp(join(tmpdir(), 'botfleet-health-'));
    await chmod(dir, 0o755);
  });

  afterEach(async () => {
    for (const r of running) await r.signal('SIGKILL').catch(() => r.child.kill('SIGKILL'));
    await Promise.all(running.map((r) => r.exited));
    running = [];
    await removeContainers();
  });

  afterAll(async () => {
    await fakes?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /** A container running `botfleet run` for one bot with `token` and the server on a free port;
   * resolves once `until` shows in its output. */
  const launch = async (label: string, token: string, until: string) => {
    const port = await freePort();
    const configDir = join(dir, label);
    await mkdir(configDir, { mode: 0o755 });
    const config = [
      'version: 1',
      'storage: { url: "memory://" }',
      `server: { port: ${port} }`,
      `providers: { fake: { baseUrl: "${fakes.baseUrl}", apiKey: container-key } }`,
      `defaults: { provider: fake, telegram: { apiRoot: "${fakes.apiRoot}" } }`,
      `bots: { box: { token: "${token}" } }`,
    ];
    await writeFile(join(configDir, 'bots.yaml'), `${config.join('\n')}\n`, { mode: 0o644 });
    const ctr = await newContainer(requiredEnv('BOTFLEET_IMAGE'), label);
    const options = { user: 'node', volumes: [`${configDir}:/app/config:ro`] };
    const run = startIn(ctr, ['node', 'dist/cli.js', 'run'], { ...options, env: { LOG_LEVEL: 'info' } });
    running.push(run);
    await waitFor(() => run.output().includes(until), { timeoutMs: 30_000, what: `"${until}" in ${label}` });
    return { check: () => runIn(ctr, healthcheck, options) };
  };

  it('reports healthy for a fleet that polls', async () => {
    const fleet = await launch('polls', GOOD_TOKEN, 'bot is polling');
    const result = await fleet.check();
    expect(result).toEqual({ code: 0, stdout: 'ready: 1 bot(s) polling, storage ok\n', stderr: '' });
  });

  it("reports unhealthy for a fleet whose only bot's token is rejected", async () => {
    const fleet = await launch('rejected', REJECTED_TOKEN, 'Telegram rejected the bot token');
    const result = await fleet.check();
    expect(result.code).toBe(1);
    // Docker would see the fleet either still up and not ready, or already gone (it exits 1
    // when no bot is left, and the restart policy starts it again): both are unhealthy.
    // The first line is botfleet's; buildah adds its own about the exit status after it.
    expect(result.stderr.split('\n')[0]).toMatch(
      /^(not ready: bot box stopped \(token rejected\)|no answer from http:\/\/127\.0\.0\.1:\d+\/readyz \(ECONNREFUSED\))$/,
    );
    expect(result.stderr).not.toContain('rejected-token');
  });
});
