/**
 * /healthz and /readyz over real HTTP on the real fleet (fake Bot API and OpenAI): ready once
 * every bot polls, 503 naming a bot whose token is rejected or storage that stopped answering
 * (a private redis-server, never the shared one), and `botfleet health` saying so in one line.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createFleetHarness, type FleetHarness } from '../support/fleet-harness.js';
import { freePort, type PrivateRedis, privateRedis } from '../support/redis.js';
import { waitFor } from '../support/wait-for.js';
import { readyz } from './ops-http.js';

const A = { id: 'alpha', token: '7001:alpha-secret-token' };
const B = { id: 'beta', token: '7002:beta-secret-token' };

describe('/healthz and /readyz', () => {
  let harness: FleetHarness | undefined;
  let redis: PrivateRedis | undefined;
  afterEach(async () => {
    await harness?.close();
    await redis?.kill();
    harness = undefined;
    redis = undefined;
  });

  it('answers 503 while a bot is not polling yet and 200 once both poll', async () => {
    harness = await createFleetHarness();
    const port = await freePort();
    await harness.writeConfig([A, B], { server: `{ port: ${port} }` });
    const url = `http://127.0.0.1:${port}`;
    // beta's getMe hangs past the init timeout: it cannot poll until the delay goes.
    harness.telegram.setDelay('getMe', 60_000, B.token);
    const started = harness.start();
    const before = await waitFor(
      async () => {
        const answer = await readyz(url).catch(() => undefined);
        return answer?.body.bots.alpha?.state === 'polling' ? answer : undefined;
      },
      { timeoutMs: 10_000, what: 'alpha polling while beta is held' },
    );
    expect(before.status).toBe(503);
    expect(before.body.ready).toBe(false);
    expect(['starting', 'backing-off']).toContain(before.body.bots.beta?.state);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);

    harness.telegram.setDelay('getMe', 0, B.token);
    await started;
    const after = await readyz(url);
    expect(after).toEqual({
      status: 200,
      body: {
        ready: true,
        storage: { state: 'ok' },
        bots: { alpha: { state: 'polling' }, beta: { state: 'polling' } },
      },
    });
  });

  it('answers 503 naming a bot whose token is rejected; botfleet health exits 1 saying so', async () => {
    harness = await createFleetHarness();
    const port = await freePort();
    await harness.writeConfig([A, { ...B, known: false }], { server: `{ port: ${port} }` });
    const { fleet } = await harness.start();
    expect(fleet.opsUrl).toBe(`http://127.0.0.1:${port}`);
    const answer = await readyz(`http://127.0.0.1:${port}`);
    expect(answer.status).toBe(503);
    expect(answer.body.bots).toEqual({
      alpha: { state: 'polling' },
      beta: { state: 'stopped', reason: 'token rejected' },
    });

    // The default URL comes from the config's server.
    const health = await runCli(['health', '--config', harness.configPath]);
    expect(health).toEqual({ code: 1, stdout: '', stderr: 'not ready: bot beta stopped (token rejected)\n' });
    const withUrl = await runCli(['health', '--url', `http://127.0.0.1:${port}`]);
    expect(withUrl.code).toBe(1);
    expect(JSON.stringify(answer.body)).not.toContain('secret-token');
  });

  it('answers 503 naming storage while Redis is down, and 200 again once it is back', async () => {
    redis = await privateRedis();
    await redis.start();
    harness = await createFleetHarness();
    await harness.writeConfig([A], { server: '{ port: 0 }', storageUrl: redis.url });
    const { fleet } = await harness.start();
    const url = fleet.opsUrl ?? '';
    expect((await readyz(url)).status).toBe(200);
    expect((await runCli(['health', '--url', url])).stdout).toBe('ready: 1 bot(s) polling, storage ok\n');

    await redis.kill();
    const down = await waitFor(
      async () => {
        const answer = await readyz(url);
        return answer.status === 503 ? answer : undefined;
      },
      { timeoutMs: 10_000, what: '/readyz to notice Redis is down' },
    );
    expect(down.body.storage.state).toBe('unreachable');
    expect(down.body.storage.reason).toContain(redis.url);
    expect(down.body.bots).toEqual({ alpha: { state: 'polling' } });
    const health = await runCli(['health', '--url', url]);
    expect(health.code).toBe(1);
    expect(health.stderr).toMatch(/^not ready: storage unreachable \(.*\)\n$/);

    await redis.start();
    await waitFor(async () => (await readyz(url)).status === 200, {
      timeoutMs: 15_000,
      what: '/readyz to turn 200 once Redis is back',
    });
  });

  it('refuses to start, naming the address, when the port is taken, and leaves nothing open', async () => {
    harness = await createFleetHarness();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      await harness.writeConfig([A], { server: `{ port: ${port} }` });
      await expect(harness.start()).rejects.toThrow(
        `server: cannot listen on 127.0.0.1:${port} (the port is in use); change server.port or server.host`,
      );
      expect(harness.telegram.calls(A.token)).toEqual([]);
    } finally {
      blocker.close();
    }
  });

  it('botfleet health says in one line that nothing answers, and that the server is off', async () => {
    const port = await freePort();
    const none = await runCli(['health', '--url', `http://127.0.0.1:${port}`]);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(`no answer from http://127.0.0.1:${port}/readyz (ECONNREFUSED)\n`);
    harness = await createFleetHarness();
    await harness.writeConfig([A]);
    const off = await runCli(['health', '--config', harness.configPath]);
    expect(off).toEqual({
      code: 1,
      stdout: '',
      stderr: 'botfleet: the HTTP server is off (or on port 0): set server.port in the config, or pass --url\n',
    });
  });
});
