/**
 * The running summary against the real things: a SQLite store in a temp folder and the fake
 * OpenAI server over HTTP through the real model client. Whatever way the summary call dies
 * (a model error, a timeout, an empty text), the stored value is exactly what it was: no turn,
 * no fact lost; a later call folds the waiting turns in and drops them in the same write.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyvSqlite } from '@keyv/sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { noMetrics, type SummaryCall } from '../../src/answer/metrics.js';
import { type SummaryDeps, summarizeConversation } from '../../src/answer/summarize.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createLlmClient } from '../../src/llm/llm-client.js';
import type { ConversationKey } from '../../src/memory/keys.js';
import { type ConversationStoreHandle, openConversationStore } from '../../src/memory/open-store.js';
import type { Turn } from '../../src/memory/value-format.js';
import { type FakeOpenAI, startFakeOpenAI } from '../fakes/openai-api.js';
import { isSummaryRequest, summarizingReply } from '../fakes/openai-replies.js';
import { captureLog, LEVEL } from '../support/capture-log.js';

const CHAT: ConversationKey = { botId: 'helper', chatId: 777 };
const KEY = 'botfleet:helper:777';

function turn(n: number, fact?: string): Turn {
  const text = fact === undefined ? `message ${n}` : `FACT: ${fact}`;
  return { user: text, assistant: `noted ${n}`, userAt: 1_000_000 + n, assistantAt: 1_000_000 + n, updateId: n };
}

describe('summarizeConversation', () => {
  let dir: string;
  let openai: FakeOpenAI;
  let store: ConversationStoreHandle;
  let raw: KeyvSqlite;
  let deps: SummaryDeps;
  let calls: SummaryCall[];
  let log: ReturnType<typeof captureLog>;
  const stored = async (): Promise<unknown> => JSON.parse((await raw.get<string>(KEY)) ?? 'null');

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'botfleet-summarize-'));
    openai = await startFakeOpenAI();
    openai.setReply(summarizingReply);
    const yaml = [
      'version: 1',
      'storage: { url: "sqlite://data/botfleet.sqlite" }',
      `providers: { fake: { baseUrl: "${openai.baseUrl}", maxRetries: 0, timeoutMs: 1000 } }`,
      'bots:',
      '  helper:',
      '    token: "123:abc"',
      '    provider: fake',
      '    model: chat-model',
      '    window: { maxTurns: 3, summary: { model: summary-model, maxTokens: 200 } }',
    ].join('\n');
    await writeFile(join(dir, 'bots.yaml'), `${yaml}\n`);
    const fleet = await loadConfig({ file: 'bots.yaml', cwd: dir, env: {} });
    const config = fleet.bots[0];
    if (config?.window.summary == null) throw new Error('the test config has no summary');
    log = captureLog();
    store = await openConversationStore({ storage: fleet.storage, logger: log.logger });
    raw = new KeyvSqlite({ uri: fleet.storage.url });
    calls = [];
    deps = {
      config: { ...config, window: { ...config.window, summary: config.window.summary } },
      store,
      llm: createLlmClient(config.window.summary.provider),
      log: log.logger,
      metrics: { ...noMetrics(), summaryCall: (call) => calls.push(call) },
    };
  });
  afterEach(async () => {
    await store.close();
    await raw.disconnect();
    await openai.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('folds the oldest waiting turns and the summary so far into one call to the summary model', async () => {
    for (const n of [1, 2, 3, 4, 5])
      await store.append(CHAT, turn(n, n === 1 ? 'A' : undefined), { maxTurns: 3, unsummarisedLimit: 10 });
    await summarizeConversation(CHAT, deps);
    const requests = openai.requests();
    expect(requests).toHaveLength(1);
    expect(requests[0]?.model).toBe('summary-model');
    expect(isSummaryRequest(requests[0]?.body)).toBe(true);
    expect(requests[0]?.body?.max_completion_tokens ?? requests[0]?.body?.max_tokens).toBe(200);
    expect(await stored()).toEqual({
      v: 1,
      turns: [turn(3), turn(4), turn(5)],
      answered: [1, 2],
      summary: { text: 'FACT: A', turns: 2, throughUserAt: turn(2).userAt, at: expect.any(Number) },
    });
    expect(calls.map((call) => call.outcome)).toEqual(['ok']);
    expect(calls[0]?.promptTokens).toBeGreaterThan(0);
  });

  it.each([
    ['a model error', () => openai.failNext({ status: 500 })],
    ['a timeout', () => openai.failNext({ kind: 'hang' })],
    ['an empty text', () => openai.enqueueReply('')],
    ['a dropped connection', () => openai.failNext({ kind: 'drop' })],
  ])('leaves the stored value exactly as it was after %s, and the next try loses no fact', async (_kind, inject) => {
    for (const n of [1, 2, 3, 4])
      await store.append(CHAT, turn(n, n === 1 ? 'A' : undefined), { maxTurns: 3, unsummarisedLimit: 10 });
    await summarizeConversation(CHAT, deps);
    for (const n of [5, 6])
      await store.append(CHAT, turn(n, n === 5 ? 'B' : undefined), { maxTurns: 3, unsummarisedLimit: 10 });
    const before = await stored();
    expect(before).toMatchObject({
      turns: [turn(2), turn(3), turn(4), turn(5, 'B'), turn(6)],
      summary: { text: 'FACT: A' },
    });

    inject();
    await summarizeConversation(CHAT, deps);
    expect(await stored()).toEqual(before);
    expect(calls.at(-1)?.outcome).not.toBe('ok');
    expect(log.lines().some((line) => line.level === LEVEL.warn && /summar/.test(line.msg))).toBe(true);

    await summarizeConversation(CHAT, deps);
    expect(await stored()).toEqual({
      v: 1,
      turns: [turn(4), turn(5, 'B'), turn(6)],
      answered: [1, 2, 3],
      summary: { text: 'FACT: A', turns: 3, throughUserAt: turn(3).userAt, at: expect.any(Number) },
    });
    await store.append(CHAT, turn(7), { maxTurns: 3, unsummarisedLimit: 10 });
    await store.append(CHAT, turn(8), { maxTurns: 3, unsummarisedLimit: 10 });
    await summarizeConversation(CHAT, deps);
    expect(await stored()).toMatchObject({
      turns: [turn(6), turn(7), turn(8)],
      summary: { text: 'FACT: A\nFACT: B', turns: 5 },
    });
  });

  it('runs at most one summary per conversation at a time', async () => {
    for (const n of [1, 2, 3, 4, 5]) await store.append(CHAT, turn(n), { maxTurns: 3, unsummarisedLimit: 10 });
    openai.setLatency(200);
    await Promise.all([
      summarizeConversation(CHAT, deps),
      summarizeConversation(CHAT, deps),
      summarizeConversation(CHAT, deps),
    ]);
    expect(openai.requests()).toHaveLength(1);
    expect((await store.read(CHAT)).turns).toHaveLength(3);
  });

  it('does not store a summary when /reset came while it was being written', async () => {
    for (const n of [1, 2, 3, 4]) await store.append(CHAT, turn(n, 'A'), { maxTurns: 3, unsummarisedLimit: 10 });
    openai.setLatency(300);
    const running = summarizeConversation(CHAT, deps);
    await openai.waitForRequest();
    await store.reset(CHAT, 99);
    await running;
    expect(await stored()).toEqual({ v: 1, turns: [], answered: [1, 2, 3, 4, 99] });
    expect(calls.map((call) => call.outcome)).toEqual(['stale']);
  });
});
