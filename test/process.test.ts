/**
 * The built CLI as a real process: `botfleet run` serves a message, stops cleanly on SIGTERM
 * with a reply in flight, remembers the conversation across a restart, and a second signal
 * exits at once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI_PATH, runCli } from './support/cli.js';
import { createFleetHarness, type FleetHarness, transcript } from './support/fleet-harness.js';
import { waitFor } from './support/wait-for.js';

const TOKEN = '8001:process-token';

interface Running {
  readonly child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; at: number }>;
}

function runFleet(cwd: string, extraArgs: string[] = []): Running {
  const child = spawn(process.execPath, [CLI_PATH, 'run', '--config', 'bots.yaml', ...extraArgs], {
    cwd,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.on('exit', (code) => resolve({ code, at: Date.now() })),
  );
  return { child, output: () => output, exited };
}

describe('botfleet run as a process', () => {
  let h: FleetHarness;
  let running: Running[] = [];
  beforeEach(async () => {
    h = await createFleetHarness();
    await h.writeConfig([{ id: 'proc', token: TOKEN }]);
  });
  afterEach(async () => {
    for (const r of running) r.child.kill('SIGKILL');
    running = [];
    await h.close();
  });

  const launch = async (extraArgs: string[] = []): Promise<Running> => {
    const r = runFleet(h.dir, extraArgs);
    running.push(r);
    await waitFor(() => r.output().includes('bot is polling'), { timeoutMs: 10_000, what: 'the bot to poll' });
    return r;
  };

  it('exits 0 on SIGTERM after delivering the reply in flight, and remembers it after a restart', async () => {
    const first = await launch();
    h.openai.setLatency(1500);
    h.telegram.sendText(TOKEN, { chatId: 9, userId: 9, text: 'remember me' });
    await h.openai.waitForRequest();
    const signalledAt = Date.now();
    first.child.kill('SIGTERM');
    const { code, at } = await first.exited;
    expect(code).toBe(0);
    expect(at - signalledAt).toBeLessThan(10_000); // the shutdown deadline
    expect(h.telegram.sentMessages(TOKEN, 9).map((m) => m.text)).toEqual(['echo: remember me']);
    const lines = first
      .output()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string; bot?: string });
    expect(lines.map((l) => l.msg)).toContain('stopped');
    expect(first.output()).not.toContain('process-token');

    h.openai.setLatency(0);
    await launch();
    h.telegram.sendText(TOKEN, { chatId: 9, userId: 9, text: 'who am I?' });
    await h.telegram.waitForSent(2, { token: TOKEN });
    expect(transcript(h.openai.lastRequest()?.body).slice(1)).toEqual([
      'user: remember me',
      'assistant: echo: remember me',
      'user: who am I?',
    ]);
  });

  it('runs a bot whose telegram.apiRoot ends with a slash', async () => {
    await h.writeConfig([{ id: 'proc', token: TOKEN, yaml: `telegram: { apiRoot: "${h.telegram.apiRoot}/" }` }]);
    await launch();
    h.telegram.sendText(TOKEN, { chatId: 5, userId: 5, text: 'slash?' });
    await h.telegram.waitForSent(1, { token: TOKEN, timeoutMs: 8000 });
  });

  it('reloads on SIGHUP with --no-watch', async () => {
    const r = await launch(['--no-watch']);
    await h.writeConfig([
      { id: 'proc', token: TOKEN },
      { id: 'late', token: '8002:late-token' },
    ]);
    r.child.kill('SIGHUP');
    await waitFor(() => r.output().includes('"msg":"config reloaded"'), { what: 'the reload log line' });
    const line =
      r
        .output()
        .split('\n')
        .find((l) => l.includes('"msg":"config reloaded"')) ?? '{}';
    expect(JSON.parse(line)).toMatchObject({ reload: 'SIGHUP', added: ['late'] });
    h.telegram.sendText('8002:late-token', { chatId: 3, userId: 3, text: 'hi late bot' });
    await h.telegram.waitForSent(1, { token: '8002:late-token', timeoutMs: 8000 });
  });

  it('exits 1 at once on a second signal while a reply hangs', async () => {
    const r = await launch();
    h.openai.failNext({ kind: 'hang' });
    h.telegram.sendText(TOKEN, { chatId: 9, userId: 9, text: 'this will hang' });
    await h.openai.waitForRequest();
    r.child.kill('SIGTERM');
    await waitFor(() => r.output().includes('finishing replies in flight'), { what: 'the first signal to be seen' });
    r.child.kill('SIGINT');
    expect((await r.exited).code).toBe(1);
    expect(h.telegram.sentMessages(TOKEN, 9)).toEqual([]);
  });
});

describe('botfleet check --online and a fleet with no usable token', () => {
  let h: FleetHarness;
  beforeEach(async () => {
    h = await createFleetHarness();
  });
  afterEach(async () => h.close());

  it('check --online asks getMe for every token and round-trips the store', async () => {
    await h.writeConfig([
      { id: 'good', token: '8101:good-token' },
      { id: 'bad', token: '8102:bad-token', known: false },
    ]);
    const failing = await runCli(['check', '--online', '--config', 'bots.yaml'], { cwd: h.dir });
    expect(failing.code).toBe(1);
    expect(failing.stdout).toMatch(/\n {2}good +ok: Telegram knows it as @good_bot\n/);
    expect(failing.stdout).toMatch(/\n {2}bad +FAILED: Telegram rejected the token; get a new one from @BotFather\n/);
    expect(failing.stdout).toMatch(/\n {2}storage +ok: round trip to sqlite:\/\/.*botfleet\.sqlite worked\n/);
    expect(failing.stdout).not.toContain('bad-token');
    expect(h.telegram.calls('8101:good-token', 'getMe')).toHaveLength(1);

    await h.writeConfig([{ id: 'good', token: '8101:good-token' }]);
    const passing = await runCli(['check', '--online', '--config', 'bots.yaml'], { cwd: h.dir });
    expect(passing.code).toBe(0);
  });

  it('run exits 1 when Telegram rejects every token', async () => {
    await h.writeConfig([{ id: 'bad', token: '8102:bad-token', known: false }]);
    const result = await runCli(['run', '--config', 'bots.yaml'], { cwd: h.dir, env: { LOG_LEVEL: 'info' } });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('Telegram rejected the bot token');
    expect(result.stdout).toContain('no bot is left running');
  });
});
