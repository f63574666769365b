/** Faults from Telegram and the model: each is contained, reported, and never stores a turn. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFleet } from '../../src/app.js';
import { loadConfig } from '../../src/config/load-config.js';
import { CONFLICT_POLL } from '../fakes/telegram-api.js';
import { LEVEL } from '../support/capture-log.js';
import { createFleetHarness, FAST_LIFECYCLE, type FleetHarness, transcript } from '../support/fleet-harness.js';
import { type PrivateRedis, privateRedis } from '../support/redis.js';
import { waitFor } from '../support/wait-for.js';

const TOKEN = '4001:main-token';
const OTHER = '4002:other-token';
const APOLOGY = 'Sorry, I could not get an answer right now. Please try again in a moment.';

describe('failures', () => {
  let h: FleetHarness;
  beforeEach(async () => {
    h = await createFleetHarness();
  });
  afterEach(async () => h.close());

  it('waits out a 429 retry_after on sendMessage and then delivers', async () => {
    await h.writeConfig([{ id: 'main', token: TOKEN }], { storageUrl: 'memory://' });
    await h.start();
    h.telegram.failNext(TOKEN, 'sendMessage', { status: 429, retryAfter: 1 });
    h.telegram.sendText(TOKEN, { chatId: 1, userId: 1, text: 'hello' });
    const [reply] = await h.telegram.waitForSent(1, { token: TOKEN, timeoutMs: 8000 });
    expect(reply?.text).toBe('echo: hello');
    const attempts = h.telegram.calls(TOKEN, 'sendMessage');
    expect(attempts.map((call) => call.outcome?.status)).toEqual([429, 200]);
    expect((attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it('sends a reply at most once: a 502 on sendMessage (maybe from a gateway after delivery) is not resent', async () => {
    await h.writeConfig([{ id: 'main', token: TOKEN }], { storageUrl: 'memory://' });
    await h.start();
    h.telegram.failNext(TOKEN, 'sendMessage', { status: 502 });
    h.telegram.sendText(TOKEN, { chatId: 1, userId: 1, text: 'hello' });
    await waitFor(() => h.logs().some((l) => l.msg === 'could not send a message'), { what: 'the failed send logged' });
    // auto-retry would resend 3 s after the 502: wait past that for a call that must not come.
    const since = h.telegram.nextSeq();
    await expect(
      h.telegram.waitForCall((call) => call.method === 'sendMessage', { since, timeoutMs: 4000 }),
    ).rejects.toThrow(/timed out/);
    expect(h.telegram.calls(TOKEN, 'sendMessage')).toHaveLength(1);
  });

  it.each([
    ['an auth error', { status: 401 }, 'auth'],
    ['a rate limit', { status: 429 }, 'rate-limit'],
    ['a server error', { status: 503 }, 'server'],
    ['a malformed answer', { kind: 'malformed' as const }, 'malformed'],
    ['an answer without choices', { kind: 'missing-choices' as const }, 'malformed'],
    ['a timeout', { kind: 'hang' as const }, 'timeout'],
  ])('turns %s from the model into the apology, a log line, and nothing stored', async (_name, failure, reason) => {
    await h.writeConfig([{ id: 'main', token: TOKEN }], { storageUrl: 'memory://', provider: 'timeoutMs: 1000' });
    await h.start();
    h.openai.failNext(failure);
    h.telegram.sendText(TOKEN, { chatId: 1, userId: 1, text: 'first try' });
    const [apology] = await h.telegram.waitForSent(1, { token: TOKEN, timeoutMs: 8000 });
    expect(apology?.text).toBe(APOLOGY);
    const line = h.logs().find((l) => l.level === LEVEL.error && l.msg.startsWith('model request failed'));
    expect(line).toMatchObject({ bot: 'main', provider: 'fake', reason, chat: 1 });
    expect(JSON.stringify(h.logs())).not.toContain('test-key');

    h.telegram.sendText(TOKEN, { chatId: 1, userId: 1, text: 'second try' });
    await h.telegram.waitForSent(2, { token: TOKEN });
    expect(transcript(h.openai.lastRequest()?.body).slice(1)).toEqual(['user: second try']);
  });

  it('stops only the bot whose token Telegram rejects; the other keeps answering', async () => {
    await h.writeConfig(
      [
        { id: 'main', token: TOKEN },
        { id: 'revoked', token: OTHER, known: false },
      ],
      { storageUrl: 'memory://' },
    );
    const { fleet } = await h.start();
    expect(fleet.bots.get('revoked')?.state()).toBe('rejected');
    expect(fleet.bots.get('main')?.state()).toBe('polling');
    const line = h.logs().find((l) => l.level === LEVEL.error && l.bot === 'revoked');
    expect(line?.msg).toMatch(/Telegram rejected the bot token/);
    expect(JSON.stringify(h.logs())).not.toContain('other-token');
    h.telegram.sendText(TOKEN, { chatId: 1, userId: 1, text: 'still there?' });
    await h.telegram.waitForSent(1, { token: TOKEN });
    let noneLeft = false;
    void fleet.noBotLeft.then(() => (noneLeft = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(noneLeft).toBe(false);
  });

  it('gives the fleet limit back when a bot stops on its own: the bot left polls for the whole share', async () => {
    await h.writeConfig(
      [
        { id: 'main', token: TOKEN },
        { id: 'revoked', token: OTHER, known: false },
      ],
      { storageUrl: 'memory://' },
    );
    const { fleet } = await h.start({ fleetLimits: { maxRunning: 4, maxWaiting: 4 } });
    expect(fleet.bots.get('revoked')?.state()).toBe('rejected');
    // The next poll of the bot left asks for all of the fleet's 4 waiting places, not half.
    const since = h.telegram.nextSeq();
    h.telegram.sendText(TOKEN, { chatId: 1, userId: 1, text: 'wake up' });
    await h.telegram.waitForSent(1, { token: TOKEN });
    const poll = await h.telegram.waitForCall((call) => call.method === 'getUpdates', { since });
    expect(Number(poll.params.limit)).toBe(4);
  });

  it('reports when no bot is left', async () => {
    await h.writeConfig([{ id: 'revoked', token: OTHER, known: false }], { storageUrl: 'memory://' });
    const { fleet } = await h.start();
    await expect(fleet.noBotLeft).resolves.toBe('every token was rejected');
  });

  it('masks the reason a bot cannot start at start-up, and says when no bot could start', async () => {
    await h.writeConfig([{ id: 'main', token: TOKEN }], { storageUrl: 'memory://' });
    const config = await loadConfig({ file: 'bots.yaml', cwd: h.dir, env: {} });
    const [bot] = config.bots;
    if (bot === undefined) throw new Error('expected one bot');
    // Past the config's checks (which strip the slash): grammY refuses it, quoting the apiRoot.
    const apiRoot = 'http://user:s3cret-pw@127.0.0.1:9/';
    const broken = { ...config, bots: [{ ...bot, telegram: { ...bot.telegram, apiRoot } }] };
    const fleet = await startFleet(broken, h.logger, { lifecycle: FAST_LIFECYCLE });
    try {
      await expect(fleet.noBotLeft).resolves.toBe('no bot could start');
      expect(h.logs().find((l) => l.msg === 'bot cannot start')).toMatchObject({ bot: 'main', level: LEVEL.error });
      expect(JSON.stringify(h.logs())).not.toContain('s3cret-pw');
    } finally {
      await fleet.stop(500);
    }
  });

  it('retries a 409 Conflict with growing waits, then polls and answers', async () => {
    await h.writeConfig([{ id: 'main', token: TOKEN }], { storageUrl: 'memory://' });
    h.telegram.failNext(TOKEN, 'getUpdates', { status: 409, description: CONFLICT_POLL, times: 3 });
    await h.start();
    h.telegram.sendText(TOKEN, { chatId: 1, userId: 1, text: 'after the conflict' });
    await h.telegram.waitForSent(1, { token: TOKEN, timeoutMs: 5000 });
    const polls = h.telegram.calls(TOKEN, 'getUpdates');
    const conflicts = polls.filter((call) => call.outcome?.status === 409);
    expect(conflicts).toHaveLength(3);
    const gaps = polls.slice(1, 4).map((call, i) => call.at - (polls[i]?.at ?? 0));
    expect(gaps[0]).toBeGreaterThanOrEqual(45); // 50 ms, then 100, then 200: never a tight loop
    expect(gaps[1]).toBeGreaterThanOrEqual(95);
    expect(gaps[2]).toBeGreaterThanOrEqual(195);
    const warnings = h.logs().filter((l) => l.level === LEVEL.warn && String(l.msg).includes('409 Conflict'));
    expect(warnings).toHaveLength(3);
  });

  it('treats a user who blocked the bot as normal, not as an error', async () => {
    await h.writeConfig([{ id: 'main', token: TOKEN }], { storageUrl: 'memory://' });
    await h.start();
    h.telegram.blockUser(TOKEN, 66);
    h.telegram.sendText(TOKEN, { chatId: 66, userId: 66, text: 'bye' });
    await waitFor(() => h.logs().find((l) => String(l.msg).includes('blocked the bot')), { what: 'the 403 log line' });
    expect(h.logs().filter((l) => l.level >= LEVEL.error)).toEqual([]);
  });
});

describe('shutdown', () => {
  let h: FleetHarness;
  beforeEach(async () => {
    h = await createFleetHarness();
    await h.writeConfig([{ id: 'main', token: TOKEN }], { storageUrl: 'memory://' });
  });
  afterEach(async () => h.close());

  it('aborts a reply still running at the deadline, sends and stores nothing for it', async () => {
    const { fleet } = await h.start();
    h.openai.failNext({ kind: 'hang' });
    h.telegram.sendText(TOKEN, { chatId: 5, userId: 5, text: 'never answered' });
    const request = await h.openai.waitForRequest();
    await fleet.stop(300);
    const outcome = await h.openai.waitForOutcome(request);
    expect(outcome.aborted).toBe(true);
    expect(h.telegram.sentMessages(TOKEN, 5)).toEqual([]);
    expect(h.logs().find((l) => String(l.msg).startsWith('shutdown deadline reached'))).toMatchObject({
      bot: 'main',
      inFlight: 1,
    });
    expect(fleet.bots.get('main')?.state()).toBe('stopped');
  });

  it('stops polling at once: no getUpdates is held after stop()', async () => {
    const { fleet } = await h.start();
    await waitFor(() => h.telegram.isPolling(TOKEN), { what: 'the first long poll' });
    await fleet.stop(1000);
    await waitFor(() => !h.telegram.isPolling(TOKEN), { what: 'the long poll to be released' });
  });
});

describe('storage going away at run time', () => {
  let h: FleetHarness;
  let redis: PrivateRedis;
  beforeEach(async () => {
    h = await createFleetHarness();
    redis = await privateRedis();
    await redis.start();
    await h.writeConfig([{ id: 'main', token: TOKEN }], { storageUrl: `redis://127.0.0.1:${redis.port}/0` });
  });
  afterEach(async () => {
    await h.close();
    await redis.kill();
  });

  it('asks the user to retry instead of answering from an empty memory, and recovers when Redis is back', async () => {
    await h.start();
    h.telegram.sendText(TOKEN, { chatId: 3, userId: 3, text: 'first' });
    await h.telegram.waitForSent(1, { token: TOKEN });
    await waitFor(() => h.logs().some((line) => line.msg === 'turn stored'), { what: 'the first turn stored' });

    await redis.kill();
    h.telegram.sendText(TOKEN, { chatId: 3, userId: 3, text: 'while down' });
    const [, retry] = await h.telegram.waitForSent(2, { token: TOKEN, timeoutMs: 8000 });
    expect(retry?.text).toBe('Sorry, my memory is unavailable right now. Please try again in a moment.');
    expect(h.openai.requests()).toHaveLength(1);
    expect(h.logs().find((l) => l.level === LEVEL.error && String(l.msg).includes('storage failed'))).toMatchObject({
      bot: 'main',
      chat: 3,
    });

    // Redis keeps nothing on disk here, so the history starts afresh; the point is recovery.
    await redis.start();
    await waitFor(
      async () => {
        const before = h.telegram.sentMessages(TOKEN, 3).length;
        h.telegram.sendText(TOKEN, { chatId: 3, userId: 3, text: 'back again' });
        await h.telegram.waitForSent(before + 1, { token: TOKEN, chatId: 3 });
        return h.telegram.sentMessages(TOKEN, 3).at(-1)?.text === 'echo: back again';
      },
      { timeoutMs: 10_000, intervalMs: 300, what: 'an answer after Redis came back' },
    );
  });
});
