/** LlmClient.stream against the fake OpenAI server: a real SSE stream, failures mid-stream. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLlmClient } from '../../src/llm/llm-client.js';
import { ModelError } from '../../src/llm/model-error.js';
import { type FakeOpenAI, startFakeOpenAI } from '../fakes/openai-api.js';

describe('LlmClient.stream', () => {
  let fake: FakeOpenAI;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
  });
  afterAll(async () => fake.close());

  const client = (timeoutMs = 5000) =>
    createLlmClient({ name: 'fake', baseUrl: fake.baseUrl, apiKey: 'k', timeoutMs, maxRetries: 0 });
  const request = (signal?: AbortSignal) => ({
    model: 'm1',
    messages: [{ role: 'user' as const, content: 'hi' }],
    temperature: null,
    maxReplyTokens: null,
    ...(signal ? { signal } : {}),
  });
  /** The deltas read, and what iteration threw (undefined when it ended normally). */
  async function read(stream: AsyncIterable<string>): Promise<{ deltas: string[]; error: unknown }> {
    const deltas: string[] = [];
    try {
      for await (const delta of stream) deltas.push(delta);
      return { deltas, error: undefined };
    } catch (error) {
      return { deltas, error };
    }
  }

  it('asks for a stream with usage and yields the chunks as they come, blank ones held back', async () => {
    fake.enqueueReply({ chunks: ['\n', ' ', 'Hello', ', ', 'world', '!'] });
    const { deltas, error } = await read(client().stream(request()));
    expect(error).toBeUndefined();
    expect(deltas).toEqual(['\n Hello', ', ', 'world', '!']);
    expect(fake.lastRequest()?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('fails mid-stream with a ModelError after the deltas already given', async () => {
    fake.failNext({ kind: 'stream-error', partialContent: 'The answer is' });
    const { deltas, error } = await read(client().stream(request()));
    expect(deltas).toEqual(['The answer is']);
    expect(error).toBeInstanceOf(ModelError);
    expect(error).toMatchObject({ reason: 'server' });
  });

  it('reports a stalled stream as a timeout, and a shutdown mid-stream as aborted', async () => {
    fake.enqueueReply({ content: 'one two three four', stallAfterChunks: 1 });
    const stalled = await read(client(300).stream(request()));
    expect(stalled.deltas).toHaveLength(1);
    expect(stalled.error).toMatchObject({ reason: 'timeout' });

    fake.enqueueReply({ content: 'one two three four', stallAfterChunks: 1 });
    const shutdown = new AbortController();
    const deltas: string[] = [];
    const error = await (async () => {
      for await (const delta of client().stream(request(shutdown.signal))) {
        deltas.push(delta);
        shutdown.abort();
      }
    })().catch((e: unknown) => e);
    expect(deltas).toHaveLength(1);
    expect(error).toMatchObject({ reason: 'aborted' });
  });

  it('cancels the HTTP request when the reader stops early', async () => {
    fake.enqueueReply({ content: 'one two three four', stallAfterChunks: 1 });
    const stream = client().stream(request());
    for await (const _ of stream) break;
    const outcome = await fake.waitForOutcome(fake.lastRequest() as never);
    expect(outcome.aborted).toBe(true);
  });
});
