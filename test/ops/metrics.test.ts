/**
 * /metrics over real HTTP on the real fleet: counters and histograms move by exactly the
 * messages sent, token counters equal the fake model's reported usage, a removed bot's series
 * vanish after a reload, and nothing secret or said by a user is in the output.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FleetHandle } from '../../src/app.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createFleetHarness, type FleetHarness } from '../support/fleet-harness.js';
import { waitFor } from '../support/wait-for.js';
import { metricsText, sample } from './ops-http.js';

const A = { id: 'alpha', token: '7101:alpha-secret-token' };
const B = { id: 'beta', token: '7102:beta-secret-token' };

describe('/metrics', () => {
  let h: FleetHarness;
  let fleet: FleetHandle;
  let url: string;
  let model: string;
  beforeEach(async () => {
    h = await createFleetHarness();
    await h.writeConfig([A, B], { server: '{ port: 0 }' });
    const started = await h.start();
    fleet = started.fleet;
    url = fleet.opsUrl ?? '';
    model = started.config.bots[0]?.model ?? '';
  });
  afterEach(async () => {
    await h.close();
  });

  it('counts exactly the messages sent, the replies, the model requests and their tokens', async () => {
    h.openai.setReply({ usage: { promptTokens: 11, completionTokens: 7 } });
    for (const chatId of [1, 2, 3])
      h.telegram.sendText(A.token, { chatId, userId: chatId, text: `private words ${chatId}` });
    await h.telegram.waitForSent(3, { token: A.token });
    h.telegram.sendText(B.token, { chatId: 4, userId: 4, text: '/start' });
    await h.telegram.waitForSent(1, { token: B.token });
    h.openai.failNext({ status: 500 });
    h.telegram.sendText(B.token, { chatId: 4, userId: 4, text: 'private words 4' });
    await h.telegram.waitForSent(2, { token: B.token }); // the apology

    const text = await metricsText(url);
    const alpha = { bot: 'alpha' };
    const alphaModel = { bot: 'alpha', provider: 'fake', model };
    expect(sample(text, 'botfleet_updates_received_total', alpha)).toBe(3);
    expect(sample(text, 'botfleet_updates_received_total', { bot: 'beta' })).toBe(2);
    expect(sample(text, 'botfleet_replies_sent_total', alpha)).toBe(3);
    expect(sample(text, 'botfleet_replies_sent_total', { bot: 'beta' })).toBe(1);
    expect(sample(text, 'botfleet_model_requests_total', { ...alphaModel, outcome: 'ok' })).toBe(3);
    expect(
      sample(text, 'botfleet_model_requests_total', { bot: 'beta', provider: 'fake', model, outcome: 'server' }),
    ).toBe(1);
    expect(sample(text, 'botfleet_errors_total', { bot: 'beta', kind: 'model' })).toBe(1);
    expect(sample(text, 'botfleet_errors_total', alpha)).toBeUndefined();
    expect(sample(text, 'botfleet_model_tokens_total', { ...alphaModel, direction: 'prompt' })).toBe(33);
    expect(sample(text, 'botfleet_model_tokens_total', { ...alphaModel, direction: 'completion' })).toBe(21);
    expect(sample(text, 'botfleet_model_latency_seconds_count', alphaModel)).toBe(3);
    expect(sample(text, 'botfleet_reply_added_latency_seconds_count', alpha)).toBe(3);
    expect(sample(text, 'botfleet_reply_added_latency_seconds_count', { bot: 'beta' })).toBe(1);
    expect(sample(text, 'botfleet_bot_up', alpha)).toBe(1);
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    for (const secret of ['secret-token', 'test-key', 'private words', 'userId', 'chat=']) {
      expect(text).not.toContain(secret);
    }
  });

  it("removes a bot's series when a reload removes the bot, and counts the reload", async () => {
    h.telegram.sendText(B.token, { chatId: 5, userId: 5, text: 'hello' });
    await h.telegram.waitForSent(1, { token: B.token });
    expect(sample(await metricsText(url), 'botfleet_replies_sent_total', { bot: 'beta' })).toBe(1);

    await h.writeConfig([A], { server: '{ port: 0 }' });
    await fleet.apply(await loadConfig({ file: 'bots.yaml', cwd: h.dir, env: {} }));
    const text = await metricsText(url);
    expect(text).not.toContain('bot="beta"');
    expect(sample(text, 'botfleet_bot_up', { bot: 'alpha' })).toBe(1);
    expect(sample(text, 'botfleet_config_reloads_total', { result: 'applied' })).toBe(1);

    // A changed server is not moved under its scrapers: a restart applies it, and the log says so.
    await h.writeConfig([A], { server: '{ port: 0, host: "localhost" }' });
    await fleet.apply(await loadConfig({ file: 'bots.yaml', cwd: h.dir, env: {} }));
    await waitFor(() => h.logs().some((line) => String(line.msg).startsWith('server settings changed')), {
      what: 'the server change to be logged',
    });
    expect(sample(await metricsText(url), 'botfleet_config_reloads_total', { result: 'applied' })).toBe(2);
  });
});
