/**
 * Token counters: the provider's `usage` when the model client reports it (onUsage), and the
 * prompt window's tokenizer count when it reports none; recorded in the real prom-client
 * metrics of ops/.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answer } from '../../src/answer/answer.js';
import { countTextTokens, MESSAGE_OVERHEAD_TOKENS, REQUEST_OVERHEAD_TOKENS } from '../../src/answer/prompt-window.js';
import type { ReplySink } from '../../src/answer/reply-sink.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { BotConfig } from '../../src/config/types.js';
import type { CompletionRequest, LlmClient } from '../../src/llm/llm-client.js';
import { createFleetMetrics } from '../../src/ops/fleet-metrics.js';
import { captureLog } from '../support/capture-log.js';
import { sample } from './ops-http.js';

let dir: string;
let config: BotConfig;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'botfleet-tokens-'));
  const yaml = [
    'version: 1',
    'storage: { url: "memory://" }',
    'providers: { local: { baseUrl: "http://127.0.0.1:9/v1" } }',
    'bots:',
    '  helper: { token: "123:abc", provider: local, model: tiny, systemPrompt: "Be brief." }',
  ].join('\n');
  await writeFile(join(dir, 'bots.yaml'), `${yaml}\n`);
  config = (await loadConfig({ file: 'bots.yaml', cwd: dir, env: {} })).bots[0] as BotConfig;
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const sink: ReplySink = {
  startTyping: () => () => undefined,
  async deliver(reply) {
    for await (const _ of reply);
    return true;
  },
  notify: async () => true,
};

/** A client streaming `reply`, reporting `usage` through onUsage when given. */
function client(reply: string, usage?: { promptTokens: number; replyTokens: number }): LlmClient {
  return {
    provider: 'local',
    complete: () => Promise.reject(new Error('not used')),
    async *stream(request: CompletionRequest) {
      yield reply;
      if (usage) request.onUsage?.(usage);
    },
  };
}

async function tokensAfter(llm: LlmClient): Promise<{ prompt: number | undefined; completion: number | undefined }> {
  const metrics = createFleetMetrics(() => []);
  const deps = { config, memory: { append: async () => undefined }, llm, sink, log: captureLog().logger, metrics };
  const input = {
    conversation: { botId: 'helper', chatId: 1 },
    turns: [],
    userText: 'hello there',
    receivedAt: performance.now(),
  };
  await answer(input, { ...deps, signal: new AbortController().signal });
  const text = await metrics.registry.metrics();
  const where = { bot: 'helper', provider: 'local', model: 'tiny' };
  return {
    prompt: sample(text, 'botfleet_model_tokens_total', { ...where, direction: 'prompt' }),
    completion: sample(text, 'botfleet_model_tokens_total', { ...where, direction: 'completion' }),
  };
}

describe('token counters', () => {
  it("take the provider's usage when it reports one", async () => {
    expect(await tokensAfter(client('General Kenobi.', { promptTokens: 40, replyTokens: 9 }))).toEqual({
      prompt: 40,
      completion: 9,
    });
  });

  it('count with the tokenizer when the provider reports none', async () => {
    const prompt =
      REQUEST_OVERHEAD_TOKENS +
      2 * MESSAGE_OVERHEAD_TOKENS +
      countTextTokens('Be brief.') +
      countTextTokens('hello there');
    expect(await tokensAfter(client('General Kenobi.'))).toEqual({
      prompt,
      completion: countTextTokens('General Kenobi.'),
    });
  });
});
