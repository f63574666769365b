/**
 * The image as a user runs it: `botfleet check` passes on the example config, and the fleet
 * answers a message through the project's fake Bot API and fake OpenAI server (started on the
 * host; chroot containers share its network), stops cleanly on SIGTERM, and a second
 * container with the same /data still holds the conversation.
 */
import { chmod, chown, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../fakes/openai-types.js';
import { type SpawnedFakes, spawnFakes } from '../fakes/spawn-fakes.js';
import type { SentMessage } from '../fakes/telegram-types.js';
import { transcript } from '../support/fleet-harness.js';
import { waitFor } from '../support/wait-for.js';
import {
  newContainer,
  removeContainer,
  removeContainers,
  requiredEnv,
  runIn,
  type Started,
  startIn,
} from './buildah.js';

/** uid and gid of the image's `node` user. */
const NODE_UID = 1000;
const TOKEN = '8301:container-token';
const CHAT = 31;

describe('botfleet check in the image', () => {
  afterAll(removeContainers);

  it('passes on the example config with its variables set', async () => {
    const ctr = await newContainer(requiredEnv('BOTFLEET_IMAGE'), 'check');
    const env = { OPENAI_API_KEY: 'sk-container', HELPER_BOT_TOKEN: '1:a', CHEF_BOT_TOKEN: '2:b' };
    const result = await runIn(ctr, ['node', 'dist/cli.js', 'check', '--config', '/app/config/bots.example.yaml'], {
      user: 'node',
      env,
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('/app/config/bots.example.yaml: valid. 2 bots to run, 1 disabled.');
    // The default storage URL, relative to /app, lands in the volume through /app/data -> /data.
    expect(result.stdout).toMatch(/^storage +sqlite:\/\/\/app\/data\/botfleet\.sqlite /m);
    expect(result.stdout).not.toContain('sk-container');
  });
});

describe('botfleet run in the image', () => {
  let fakes: SpawnedFakes;
  let dir: string;
  let running: Started[] = [];
  /** What the first fleet logged. */
  let firstOutput = '';

  beforeAll(async () => {
    fakes = await spawnFakes();
    await fakes.telegram('/__fake/bots', { token: TOKEN, username: 'container_bot' });
    dir = await mkdtemp(join(tmpdir(), 'botfleet-container-'));
    // Readable by the container's node user; /data writable by it, as a bind mount must be.
    await chmod(dir, 0o755);
    await mkdir(join(dir, 'config'), { mode: 0o755 });
    await mkdir(join(dir, 'data'));
    await chown(join(dir, 'data'), NODE_UID, NODE_UID);
    // No storage section: the image's default must keep the conversation in /data.
    const config = [
      'version: 1',
      'providers:',
      `  fake: { baseUrl: "${fakes.baseUrl}", apiKey: container-key, maxRetries: 0 }`,
      'defaults:',
      '  provider: fake',
      `  telegram: { apiRoot: "${fakes.apiRoot}" }`,
      'bots:',
      '  box:',
      `    token: "${TOKEN}"`,
    ];
    await writeFile(join(dir, 'config/bots.yaml'), `${config.join('\n')}\n`, { mode: 0o644 });
  });

  afterAll(async () => {
    // A fleet still running (a test failed): kill Node, so `buildah run` ends and cleans up
    // after itself; killing `buildah run` instead would leave its run folder behind.
    for (const r of running) await r.signal('SIGKILL').catch(() => r.child.kill('SIGKILL'));
    await Promise.all(running.map((r) => r.exited));
    running = [];
    await removeContainers();
    await fakes?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /** `botfleet run` (the image's CMD) in a new container, with ./config and /data mounted. */
  const launch = async (label: string): Promise<{ ctr: string; run: Started }> => {
    const ctr = await newContainer(requiredEnv('BOTFLEET_IMAGE'), label);
    const run = startIn(ctr, ['node', 'dist/cli.js', 'run'], {
      user: 'node',
      volumes: [`${join(dir, 'config')}:/app/config:ro`, `${join(dir, 'data')}:/data`],
      env: { LOG_LEVEL: 'info' },
    });
    running.push(run);
    await waitFor(() => run.output().includes('bot is polling'), {
      timeoutMs: 30_000,
      what: `the bot in container ${label} to poll`,
    });
    return { ctr, run };
  };

  /** Stops the fleet with SIGTERM to Node itself, as `docker stop` does; it must exit 0. */
  const stop = async ({ ctr, run }: { ctr: string; run: Started }): Promise<string> => {
    await run.signal('SIGTERM');
    expect(await run.exited).toBe(0);
    running = running.filter((r) => r !== run);
    await removeContainer(ctr);
    return run.output();
  };

  const sent = async (): Promise<string[]> => {
    const { messages } = await fakes.telegram<{ messages: SentMessage[] }>(
      `/__fake/sent?token=${encodeURIComponent(TOKEN)}&chatId=${CHAT}`,
    );
    return messages.map((m) => m.text);
  };

  it('answers, stops on SIGTERM with exit 0, and a new container with the same /data remembers', async () => {
    const first = await launch('run-1');
    await fakes.telegram('/__fake/sendText', {
      token: TOKEN,
      chatId: CHAT,
      userId: CHAT,
      text: 'remember the container',
    });
    await waitFor(async () => (await sent()).length === 1, { timeoutMs: 15_000, what: 'the first answer' });
    expect(await sent()).toEqual(['echo: remember the container']);

    firstOutput = await stop(first);
    const lines = firstOutput
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string });
    expect(lines.map((line) => line.msg)).toContain('stopped');
    expect(firstOutput).not.toContain('container-token');
    // The conversation is in the mounted /data, written by the node user.
    const files = await readdir(join(dir, 'data'));
    expect(files).toContain('botfleet.sqlite');
    expect((await stat(join(dir, 'data/botfleet.sqlite'))).uid).toBe(NODE_UID);

    const second = await launch('run-2');
    await fakes.telegram('/__fake/sendText', { token: TOKEN, chatId: CHAT, userId: CHAT, text: 'what did I say?' });
    await waitFor(async () => (await sent()).length === 2, { timeoutMs: 15_000, what: 'the second answer' });
    const { requests } = await fakes.openai<{ requests: RecordedRequest[] }>('/__fake/requests');
    const completions = requests.filter((r) => r.path === '/v1/chat/completions');
    expect(completions).toHaveLength(2);
    expect(transcript(completions[1]?.body).slice(1)).toEqual([
      'user: remember the container',
      'assistant: echo: remember the container',
      'user: what did I say?',
    ]);
    await stop(second);
  });

  it("the README's backup and restore of /data keep the conversation", async () => {
    const image = requiredEnv('BOTFLEET_IMAGE');
    const backupDir = join(dir, 'backup');
    const restored = join(dir, 'restored');
    await mkdir(backupDir);
    await mkdir(restored);
    // docker compose run --rm --user root -v "$PWD:/backup" botfleet tar czf /backup/botfleet-data.tgz -C /data .
    const backup = await newContainer(image, 'backup');
    const saved = await runIn(backup, ['tar', 'czf', '/backup/botfleet-data.tgz', '-C', '/data', '.'], {
      user: 'root',
      volumes: [`${join(dir, 'data')}:/data`, `${backupDir}:/backup`],
    });
    expect(saved).toMatchObject({ code: 0, stderr: '' });
    // docker compose run --rm --user root -v "$PWD:/backup" botfleet sh -c 'find /data -mindepth 1 -delete && tar xzf /backup/botfleet-data.tgz -C /data'
    const restore = await newContainer(image, 'restore');
    const back = await runIn(
      restore,
      ['sh', '-c', 'find /data -mindepth 1 -delete && tar xzf /backup/botfleet-data.tgz -C /data'],
      {
        user: 'root',
        volumes: [`${restored}:/data`, `${backupDir}:/backup`],
      },
    );
    expect(back).toMatchObject({ code: 0, stderr: '' });
    expect((await stat(join(restored, 'botfleet.sqlite'))).uid).toBe(NODE_UID);
    const read = await runIn(
      restore,
      [
        'node',
        '-e',
        "new (require('sqlite3').Database)('/data/botfleet.sqlite').all('SELECT key FROM keyv', (e, rows) => { if (e) throw e; console.log(rows.map((r) => r.key).join(' ')); })",
      ],
      { user: 'node', volumes: [`${restored}:/data`] },
    );
    expect(read).toMatchObject({ code: 0, stderr: '' });
    expect(read.stdout.trim().split(' ')).toContain(`botfleet:box:${CHAT}`);
  });

  it("the README's readable logs: pino-pretty in the image reads the JSON lines", async () => {
    expect(firstOutput).toContain('bot is polling');
    // docker compose logs --no-log-prefix botfleet | docker compose exec -T botfleet node_modules/.bin/pino-pretty
    const ctr = await newContainer(requiredEnv('BOTFLEET_IMAGE'), 'pretty');
    const pretty = await runIn(ctr, ['node_modules/.bin/pino-pretty'], { user: 'node', input: firstOutput });
    expect(pretty.code).toBe(0);
    expect(pretty.stdout).toMatch(/INFO.*: bot is polling/);
    expect(pretty.stdout).not.toContain('{"level"');
  });
});
