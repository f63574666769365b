/**
 * The transport-free answer on its own: a sink that records what it was given (as a terminal
 * would print it), a model client written against the LlmClient interface, a memory that
 * records appends, and a real logger. No Telegram anywhere.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answer, type TurnStore } from '../../src/answer/answer.js';
import type { Notice, ReplySink } from '../../src/answer/reply-sink.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { BotConfig } from '../../src/config/types.js';
import type { CompletionRequest, LlmClient } from '../../src/llm/llm-client.js';
import { ModelError } from '../../src/llm/model-error.js';
import type { Turn } from '../../src/memory/value-format.js';
import { captureLog, LEVEL } from '../support/capture-log.js';

let dir: string;
let config: BotConfig;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'botfleet-answer-'));
  const yaml = [
    'version: 1',
    'storage: { url: "memory://" }',
    'providers: { fake: { baseUrl: "http://127.0.0.1:9/v1" } }',
    'bots:',
    '  helper: { token: "123:abc", provider: fake, model: m, systemPrompt: "Be brief." }',
  ].join('\n');
  await writeFile(join(dir, 'bots.yaml'), `${yaml}\n`);
  const fleet = await loadConfig({ file: 'bots.yaml', cwd: dir, env: {} });
  config = fleet.bots[0] as BotConfig;
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A sink that records everything, in order. */
function recordingSink(): ReplySink & { events: string[]; deltas: string[]; notices: Notice[] } {
  const events: string[] = [];
  const deltas: string[] = [];
  const notices: Notice[] = [];
  return {
    events,
    deltas,
    notices,
    startTyping() {
      events.push('typing');
      return () => events.push('typing stopped');
    },
    async deliver(reply) {
      for await (const delta of reply) {
        events.push('delta');
        deltas.push(delta);
      }
      return true;
    },
    async notify(notice) {
      events.push(`notice ${notice.kind}`);
      notices.push(notice);
      return true;
    },
  };
}

/** A model client whose stream is `stream`; `complete` is not used by the answer. */
function modelClient(stream: (request: CompletionRequest) => AsyncIterable<string>): LlmClient {
  return {
    provider: 'fake',
    complete: () => Promise.reject(new Error('not used')),
    stream,
  };
}

function recordingMemory(): TurnStore & { turns: Turn[] } {
  const turns: Turn[] = [];
  return {
    turns,
    async append(_conversation, turn) {
      turns.push(turn);
    },
  };
}

const conversation = { botId: 'helper', chatId: 7 };

describe('answer', () => {
  it('hands the sink the reply as deltas and stores the whole text the model produced', async () => {
    const sink = recordingSink();
    const memory = recordingMemory();
    const log = captureLog();
    let asked: CompletionRequest | undefined;
    const llm = modelClient(async function* (request) {
      asked = request;
      yield 'Hello';
      yield ', world';
    });
    const input = { conversation, turns: [], userText: 'hi', updateId: 5 };
    await answer(input, { config, memory, llm, sink, signal: new AbortController().signal, log: log.logger });
    expect(sink.deltas).toEqual(['Hello', ', world']);
    expect(sink.events).toEqual(['typing', 'typing stopped', 'delta', 'delta', 'typing stopped']);
    expect(memory.turns.map((t) => [t.user, t.assistant, t.updateId])).toEqual([['hi', 'Hello, world', 5]]);
    expect(asked?.messages.map((m) => `${m.role}: ${m.content}`)).toEqual(['system: Be brief.', 'user: hi']);
  });

  it('with window.summary on, sends the turns still waiting for their summary too (while they fit maxTokens)', async () => {
    const summarising: BotConfig = {
      ...config,
      window: {
        ...config.window,
        maxTurns: 2,
        summary: { provider: config.provider, model: 'm', maxTokens: 500, prompt: 'Summarise.' },
      },
    };
    let asked: CompletionRequest | undefined;
    const llm = modelClient(async function* (request) {
      asked = request;
      yield 'ok';
    });
    // Turn 1 left the window (maxTurns 2) but its summary has not been stored yet.
    const turns: Turn[] = ['my name is Ada', 'two', 'three'].map((user, i) => ({
      user,
      assistant: `re ${user}`,
      userAt: i,
      assistantAt: i,
    }));
    const input = { conversation, turns, userText: 'who am I?', updateId: 9 };
    const deps = { config: summarising, memory: recordingMemory(), llm, sink: recordingSink() };
    await answer(input, { ...deps, signal: new AbortController().signal, log: captureLog().logger });
    expect(asked?.messages.map((m) => m.content)).toContain('my name is Ada');
  });

  it('logs a model failure, apologises and stores nothing', async () => {
    const sink = recordingSink();
    const memory = recordingMemory();
    const log = captureLog();
    const llm = modelClient(async function* () {
      yield* [];
      throw new ModelError('fake', 'server', 'HTTP 500', { status: 500 });
    });
    const input = { conversation, turns: [], userText: 'hi', updateId: 6 };
    await answer(input, { config, memory, llm, sink, signal: new AbortController().signal, log: log.logger });
    expect(sink.notices).toEqual([
      { kind: 'modelError', text: config.replies.modelError, cause: 'provider fake: server (HTTP 500): HTTP 500' },
    ]);
    expect(memory.turns).toEqual([]);
    const line = log.lines().find((l) => l.level === LEVEL.error);
    expect(line).toMatchObject({
      msg: 'model request failed; the user got the apology, nothing stored',
      reason: 'server',
    });
  });

  it('ends a reply the model failed mid-stream with the cut-off note instead of an apology; stores nothing', async () => {
    const cuts: string[] = [];
    const cutOff = async (note: string): Promise<boolean> => {
      cuts.push(note);
      return true;
    };
    const sink = { ...recordingSink(), cutOff };
    const memory = recordingMemory();
    const log = captureLog();
    const llm = modelClient(async function* () {
      yield 'Half an';
      throw new ModelError('fake', 'server', 'stream broke');
    });
    const input = { conversation, turns: [], userText: 'hi', updateId: 8 };
    await answer(input, { config, memory, llm, sink, signal: new AbortController().signal, log: log.logger });
    expect(cuts).toEqual([config.replies.cutOff]);
    expect(sink.notices).toEqual([]);
    expect(memory.turns).toEqual([]);
    expect(log.lines().find((l) => l.level === LEVEL.error)?.msg).toBe(
      'model request failed; the reply shown so far ends with the cut-off note, nothing stored',
    );
  });

  it('logs a programming error of the model client as a bug, with its stack, and still apologises', async () => {
    const sink = recordingSink();
    const memory = recordingMemory();
    const log = captureLog();
    const llm = modelClient(async function* () {
      yield* [];
      throw new TypeError('cannot read properties of undefined');
    });
    const input = { conversation, turns: [], userText: 'hi', updateId: 7 };
    await answer(input, { config, memory, llm, sink, signal: new AbortController().signal, log: log.logger });
    expect(sink.notices).toEqual([
      { kind: 'modelError', text: config.replies.modelError, cause: 'cannot read properties of undefined' },
    ]);
    expect(memory.turns).toEqual([]);
    const line = log.lines().find((l) => l.level === LEVEL.error);
    expect(line?.msg).toMatch(/^bug: the model client threw an unexpected error/);
    expect(line?.err).toBe('cannot read properties of undefined');
    expect(String(line?.stack)).toMatch(/^TypeError: cannot read properties of undefined\n\s+at /);
  });
});
