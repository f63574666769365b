import OpenAI, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  AuthenticationError,
  InternalServerError,
  RateLimitError,
} from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from './openai-api.js';

let fake: FakeOpenAI;
let client: OpenAI;

beforeEach(async () => {
  fake = await startFakeOpenAI({ apiKey: 'sk-test-key' });
  client = new OpenAI({ baseURL: fake.baseUrl, apiKey: 'sk-test-key', maxRetries: 0 });
});

afterEach(async () => {
  await fake.close();
});

const ask = (text: string, extra: Partial<OpenAI.Chat.ChatCompletionCreateParamsNonStreaming> = {}) =>
  client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: text },
    ],
    ...extra,
  });

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable('the request should have failed'),
    (e: unknown) => e,
  );
}

describe('fake OpenAI API with the real openai SDK', () => {
  it('echoes the last user message by default and records the request', async () => {
    const completion = await ask('hello there', { temperature: 0.2 });
    expect(completion.choices[0]?.message).toMatchObject({ role: 'assistant', content: 'echo: hello there' });
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage?.total_tokens).toBe(
      (completion.usage?.prompt_tokens ?? 0) + (completion.usage?.completion_tokens ?? 0),
    );
    expect(completion._request_id).toMatch(/^req_/);
    const request = fake.lastRequest();
    expect(request?.body).toMatchObject({
      model: 'gpt-4o-mini',
      temperature: 0.2,
      messages: [{ role: 'system' }, { role: 'user', content: 'hello there' }],
    });
    expect(request?.apiKey).toBe('sk-test-key');
    expect(request?.headers.authorization).toBe('Bearer sk-test-key');
    expect(request?.outcome).toMatchObject({
      status: 200,
      kind: 'reply',
      content: 'echo: hello there',
      aborted: false,
    });
  });

  it('uses queued replies first, then the reply function', async () => {
    fake.enqueueReply('first', { content: 'second', finishReason: 'length' });
    fake.setReply((request) => `model was ${request.model}`);
    expect((await ask('a')).choices[0]?.message.content).toBe('first');
    expect((await ask('b')).choices[0]?.finish_reason).toBe('length');
    expect((await ask('c')).choices[0]?.message.content).toBe('model was gpt-4o-mini');
    fake.setReply(undefined);
    expect((await ask('d', { max_completion_tokens: 1 })).choices[0]).toMatchObject({
      finish_reason: 'length',
      message: { content: 'echo' },
    });
  });

  it('surfaces injected status codes as the SDK error classes', async () => {
    fake.failNext({ status: 500 });
    const serverError = await rejection(ask('x'));
    expect(serverError).toBeInstanceOf(InternalServerError);
    expect(serverError).toMatchObject({ status: 500, type: 'server_error' });
    expect((serverError as APIError).requestID).toMatch(/^req_/);
    fake.failNext({ status: 429, retryAfterSeconds: 3 });
    const limited = await rejection(ask('x'));
    expect(limited).toBeInstanceOf(RateLimitError);
    expect([(limited as APIError).code, (limited as APIError).headers?.get('retry-after')]).toEqual([
      'rate_limit_exceeded',
      '3',
    ]);
    const wrongKey = new OpenAI({ baseURL: fake.baseUrl, apiKey: 'sk-wrong', maxRetries: 0 });
    const denied = await rejection(
      wrongKey.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }),
    );
    expect(denied).toBeInstanceOf(AuthenticationError);
    expect((denied as APIError).code).toBe('invalid_api_key');
    expect((await ask('fine again')).choices[0]?.message.content).toBe('echo: fine again');
  });

  it('injects malformed bodies, missing choices, dropped connections and hangs', async () => {
    fake.failNext({ kind: 'malformed' });
    expect(await rejection(ask('x'))).toBeInstanceOf(Error);
    fake.failNext({ kind: 'missing-choices' });
    expect((await ask('x')).choices).toBeUndefined();
    fake.failNext({ kind: 'drop' });
    expect(await rejection(ask('x'))).toBeInstanceOf(APIConnectionError);
    fake.failNext({ kind: 'hang' });
    const hung = await rejection(
      client.chat.completions.create(
        { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] },
        { timeout: 200 },
      ),
    );
    expect(hung).toBeInstanceOf(APIConnectionTimeoutError);
    const outcome = await fake.waitForOutcome(fake.lastRequest() as NonNullable<ReturnType<FakeOpenAI['lastRequest']>>);
    expect(outcome).toMatchObject({ kind: 'hang', aborted: true, injected: true });
    expect(fake.inFlight()).toBe(0);
  });

  it('streams chat.completion.chunk events ending with usage and [DONE]', async () => {
    fake.enqueueReply({ content: 'one two three', chunkDelayMs: 5 });
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'count' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const deltas: string[] = [];
    let finish: string | null | undefined;
    let total: number | undefined;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      const choice = chunk.choices[0];
      if (choice?.delta.content) deltas.push(choice.delta.content);
      if (choice?.finish_reason) finish = choice.finish_reason;
      if (chunk.usage) total = chunk.usage.total_tokens;
    }
    expect(deltas).toEqual(['one ', 'two ', 'three']);
    expect(finish).toBe('stop');
    expect(total).toBeGreaterThan(0);
    expect(fake.lastRequest()).toMatchObject({ stream: true, outcome: { kind: 'reply', content: 'one two three' } });
    fake.failNext({ kind: 'stream-error' });
    const broken = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    const drain = async (): Promise<void> => {
      for await (const _chunk of broken) void _chunk;
    };
    expect(await rejection(drain())).toBeInstanceOf(APIError);
  });

  it('cuts a stream halfway or lets it just stop', async () => {
    const open = () =>
      client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'x' }],
        stream: true,
      });
    const read = async (stream: Awaited<ReturnType<typeof open>>): Promise<string> => {
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      return text;
    };
    fake.failNext({ kind: 'cut', partialContent: 'Half' });
    expect(await rejection(open().then(read))).toBeInstanceOf(Error); // undici: "terminated"
    expect(fake.lastRequest()?.outcome).toMatchObject({ kind: 'cut', injected: true });
    fake.failNext({ kind: 'truncated', partialContent: 'Half' });
    expect(await read(await open())).toBe('Half');
    expect(fake.lastRequest()?.outcome).toMatchObject({ kind: 'truncated', injected: true });
  });

  it('applies latency and lists models', async () => {
    fake.setLatency(150);
    const started = performance.now();
    await ask('slow');
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    const outcome = fake.lastRequest()?.outcome;
    expect((outcome?.firstByteAt ?? 0) - (fake.lastRequest()?.at ?? 0)).toBeGreaterThanOrEqual(140);
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toContain('gpt-4o-mini');
    expect(fake.requests()).toHaveLength(1); // requests() lists chat completions only
  });
});
