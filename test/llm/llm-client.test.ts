/** The model client against the fake OpenAI server: what it sends and how it fails. */
import { getEventListeners } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLlmClient } from '../../src/llm/llm-client.js';
import { ModelError } from '../../src/llm/model-error.js';
import { type FakeOpenAI, startFakeOpenAI } from '../fakes/openai-api.js';

describe('createLlmClient', () => {
  let fake: FakeOpenAI;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
  });
  afterAll(async () => fake.close());

  const provider = (over: Partial<{ apiKey: string | null; maxRetries: number }> = {}) => ({
    name: 'fake',
    baseUrl: fake.baseUrl,
    apiKey: 'sk-secret-key',
    timeoutMs: 5000,
    maxRetries: 0,
    ...over,
  });
  const messages = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'hi' },
  ] as const;

  it('sends the model, messages, key, temperature and max_tokens; leaves out what is null', async () => {
    const client = createLlmClient(provider());
    const reply = await client.complete({ model: 'm1', messages, temperature: 0.2, maxReplyTokens: 50 });
    expect(reply.text).toBe('echo: hi');
    expect(reply.promptTokens).toBeGreaterThan(0);
    const sent = fake.lastRequest();
    expect(sent?.apiKey).toBe('sk-secret-key');
    expect(sent?.body).toMatchObject({ model: 'm1', messages, temperature: 0.2, max_tokens: 50 });

    await createLlmClient(provider({ apiKey: null })).complete({
      model: 'm1',
      messages,
      temperature: null,
      maxReplyTokens: null,
    });
    const bare = fake.lastRequest()?.body ?? {};
    expect(Object.keys(bare).sort()).toEqual(['messages', 'model']);
  });

  it('streams the reply as deltas, starting the request only when iterated, failing like complete', async () => {
    const client = createLlmClient(provider());
    const before = fake.requests().length;
    const stream = client.stream({ model: 'm1', messages, temperature: null, maxReplyTokens: null });
    expect(fake.requests().length).toBe(before);
    const deltas: string[] = [];
    for await (const delta of stream) deltas.push(delta);
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe('echo: hi');
    fake.failNext({ status: 401 });
    const failing = client.stream({ model: 'm1', messages, temperature: null, maxReplyTokens: null });
    const error = await (async () => {
      for await (const _ of failing) return undefined;
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).reason).toBe('auth');
  });

  it('retries what the provider config allows, then reports the failure by reason', async () => {
    fake.failNext({ status: 503, times: 2 });
    const before = fake.requests().length;
    const reply = await createLlmClient(provider({ maxRetries: 2 })).complete({
      model: 'm1',
      messages,
      temperature: null,
      maxReplyTokens: null,
    });
    expect(reply.text).toBe('echo: hi');
    expect(fake.requests().length - before).toBe(3);

    fake.failNext({ status: 401, message: 'Incorrect API key provided: sk-secret-key' });
    const error = await createLlmClient(provider())
      .complete({ model: 'm1', messages, temperature: null, maxReplyTokens: null })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect(error).toMatchObject({ provider: 'fake', reason: 'auth', status: 401 });
    expect((error as Error).message).not.toContain('sk-secret-key');
    expect((error as Error).message).toContain('check providers.fake.apiKey');
  });

  it('reports an unreachable endpoint as a network failure naming the setting to check', async () => {
    const client = createLlmClient({ ...provider(), baseUrl: 'http://127.0.0.1:9/v1' });
    const error = await client
      .complete({ model: 'm1', messages, temperature: null, maxReplyTokens: null })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: 'network' });
    expect((error as Error).message).toContain('check providers.fake.baseUrl');
  });

  it('rejects an empty reply instead of passing it on', async () => {
    fake.enqueueReply({ content: '   ' });
    const error = await createLlmClient(provider())
      .complete({ model: 'm1', messages, temperature: null, maxReplyTokens: null })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: 'malformed' });
  });

  it('reports an answer the SDK cannot parse, or one without choices, as malformed', async () => {
    const client = createLlmClient(provider());
    const ask = () =>
      client.complete({ model: 'm1', messages, temperature: null, maxReplyTokens: null }).catch((e: unknown) => e);
    fake.failNext({ kind: 'malformed' });
    const broken = await ask();
    expect(broken).toBeInstanceOf(ModelError);
    expect(broken).toMatchObject({ provider: 'fake', reason: 'malformed' });
    expect((broken as Error).message).toMatch(/the answer could not be read \(.*JSON/);
    fake.failNext({ kind: 'missing-choices' });
    expect(await ask()).toMatchObject({ reason: 'malformed', message: expect.stringContaining('no reply text') });
  });

  it('rethrows a programming mistake as the bug it is, not as a malformed answer', async () => {
    const before = fake.requests().length;
    const error = await createLlmClient(provider())
      .complete({
        model: 'm1',
        messages: undefined as unknown as typeof messages,
        temperature: null,
        maxReplyTokens: null,
      })
      .catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(ModelError);
    expect(error).toBeInstanceOf(TypeError);
    expect(fake.requests().length).toBe(before);
  });

  it('leaves no listener on the long-lived abort signal it is given, and still aborts through it', async () => {
    const client = createLlmClient(provider());
    const shutdown = new AbortController();
    for (let i = 0; i < 30; i += 1)
      await client.complete({
        model: 'm1',
        messages,
        temperature: null,
        maxReplyTokens: null,
        signal: shutdown.signal,
      });
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(0);

    fake.failNext({ kind: 'hang' });
    const pending = client
      .complete({ model: 'm1', messages, temperature: null, maxReplyTokens: null, signal: shutdown.signal })
      .catch((e: unknown) => e);
    await fake.waitForRequest((r) => r.outcome === undefined);
    shutdown.abort();
    expect(await pending).toMatchObject({ reason: 'aborted' });
  });
});
