/**
 * `botfleet chat` (a real process over the fake OpenAI) with window.summary: the same answer()
 * as Telegram, so the terminal conversation gets a running summary too, and the chat waits for
 * the last summary before it closes the store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSummaryRequest, summarizingReply } from '../fakes/openai-replies.js';
import { runCli } from '../support/cli.js';
import { runCliWithInput } from '../support/cli-input.js';
import { createFleetHarness, type FleetHarness, transcript } from '../support/fleet-harness.js';

describe('botfleet chat with window.summary', () => {
  let h: FleetHarness;
  beforeEach(async () => {
    h = await createFleetHarness();
    await h.writeConfig([
      {
        id: 'helper',
        token: '8401:chat-token',
        yaml: 'window: { maxTurns: 2, maxTokens: 1000, summary: { maxTokens: 100 } }',
      },
    ]);
    h.openai.setReply(summarizingReply);
  });
  afterEach(async () => {
    await h.close();
  });

  it('keeps a fact of the first line in the request of the last, and stores the last summary before exiting', async () => {
    const lines = ['FACT: the door code is 4711', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight'];
    const result = await runCliWithInput(['chat', 'helper', '--config', 'bots.yaml'], `${lines.join('\n')}\n`, {
      cwd: h.dir,
    });
    expect(result.code).toBe(0);
    const chats = h.openai.requests().filter((request) => !isSummaryRequest(request.body));
    expect(chats).toHaveLength(8);
    expect(transcript(chats[7]?.body)[1]).toBe(
      'system: Summary of the earlier conversation:\nFACT: the door code is 4711',
    );
    expect(h.openai.requests().filter((request) => isSummaryRequest(request.body)).length).toBeLessThanOrEqual(6);

    const shown = await runCli(['history', 'show', 'helper', 'terminal', '--config', 'bots.yaml'], { cwd: h.dir });
    expect(shown.stdout).toContain('# helper, chat 0 (terminal): 2 turns');
    expect(shown.stdout).toMatch(/summary of 6 earlier turns, through .*:\n {2}FACT: the door code is 4711\n/);
  });

  it('gives up a summary that does not finish within a few seconds of the end, telling the user', async () => {
    await h.writeConfig([
      {
        id: 'helper',
        token: '8401:chat-token',
        yaml: 'window: { maxTurns: 1, maxTokens: 1000, summary: { maxTokens: 100, model: slow-summary } }',
      },
    ]);
    // The summary model takes far longer than the provider's 60 s timeout; chat replies are quick.
    h.openai.setLatency(600_000, 'slow-summary');
    const result = await runCliWithInput(['chat', 'helper', '--config', 'bots.yaml'], 'one\ntwo\n', { cwd: h.dir });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('(the summary was not finished; the next chat summarises those turns again)');
    expect(h.openai.requests().filter((request) => isSummaryRequest(request.body)).length).toBeGreaterThanOrEqual(1);
    // Both turns are still stored: nothing was folded, nothing lost.
    const shown = await runCli(['history', 'show', 'helper', 'terminal', '--config', 'bots.yaml'], { cwd: h.dir });
    expect(shown.stdout).toContain('# helper, chat 0 (terminal): 2 turns');
  }, 40_000);
});
