/**
 * `botfleet chat` piped, as a real process over the fake OpenAI: one reply line per input
 * line, history kept across runs under the terminal key, /reset, a model failure exits 1 and
 * stores nothing, and no Telegram call is ever made.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { runCliWithInput } from '../support/cli-input.js';
import { createFleetHarness, type FleetHarness, transcript } from '../support/fleet-harness.js';

const TOKEN = '8301:chat-token';

describe('botfleet chat, piped', () => {
  let h: FleetHarness;
  beforeEach(async () => {
    h = await createFleetHarness();
    await h.writeConfig([{ id: 'helper', token: TOKEN, yaml: 'systemPrompt: "You are terse."' }]);
  });
  afterEach(async () => {
    await h.close();
  });

  const chat = (input: string) => runCliWithInput(['chat', 'helper', '--config', 'bots.yaml'], input, { cwd: h.dir });
  const cli = (...args: string[]) => runCli([...args, '--config', 'bots.yaml'], { cwd: h.dir });

  it('answers line by line in plain text, and remembers the conversation in the next run', async () => {
    h.openai.enqueueReply('**Hello** there, `friend`');
    const first = await chat('hi\n\nsecond message\n');
    expect(first).toMatchObject({ code: 0, stdout: 'Hello there, friend\necho: second message\n' });

    const second = await chat('third\n');
    expect(second).toMatchObject({ code: 0, stdout: 'echo: third\n' });
    expect(transcript(h.openai.lastRequest()?.body)).toEqual([
      'system: You are terse.',
      'user: hi',
      'assistant: **Hello** there, `friend`',
      'user: second message',
      'assistant: echo: second message',
      'user: third',
    ]);
    expect(h.telegram.calls()).toEqual([]);

    const listed = await cli('history', 'list', 'helper');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^0 \(terminal\)\s+-\s+-\s+3\s+\d{4}-/m);
    const shown = await cli('history', 'show', 'helper', 'terminal');
    expect(shown.stdout).toContain('# helper, chat 0 (terminal): 3 turns');
    expect(shown.stdout).toContain('  echo: third');
  });

  it('forgets the conversation on /reset', async () => {
    const result = await chat('one\n/reset\ntwo\n');
    expect(result).toMatchObject({ code: 0, stdout: 'echo: one\necho: two\n' });
    expect(result.stderr).toContain('(conversation forgotten)');
    expect(transcript(h.openai.lastRequest()?.body)).toEqual(['system: You are terse.', 'user: two']);
    const exported = await cli('history', 'export', 'helper');
    expect(
      exported.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).user),
    ).toEqual(['two']);
  });

  it('stops at /exit without reading on', async () => {
    const result = await chat('one\n/exit\ntwo\n');
    expect(result).toMatchObject({ code: 0, stdout: 'echo: one\n' });
  });

  it('exits 1 with a clear message when the model fails, and stores nothing', async () => {
    h.openai.failNext({ status: 500, times: Number.POSITIVE_INFINITY });
    const result = await chat('hello?\nnever asked\n');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/botfleet: the model failed: .*500.*; this message was not stored/);
    expect(h.openai.requests().filter((r) => r.path.endsWith('/chat/completions'))).toHaveLength(1);
    const exported = await cli('history', 'export', 'helper');
    expect(exported).toMatchObject({ code: 0, stdout: '' });
  });

  it('needs no Telegram token: an unset one does not stop chat or history, only run and check', async () => {
    await h.writeConfig([{ id: 'helper', token: '${UNSET_TELEGRAM_TOKEN}', known: false }]);
    expect(await chat('hi\n')).toMatchObject({ code: 0, stdout: 'echo: hi\n', stderr: '' });
    expect((await cli('history', 'export', 'helper')).stdout).toContain('"user":"hi"');
    const check = await cli('check');
    expect(check.code).toBe(2);
    expect(check.stderr).toContain('bots.helper.token: environment variable UNSET_TELEGRAM_TOKEN is not set');
    expect(h.telegram.calls()).toEqual([]);
  });

  it('names the bots when the bot id is unknown', async () => {
    const unknown = await runCliWithInput(['chat', 'nobody', '--config', 'bots.yaml'], 'hi\n', { cwd: h.dir });
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.stderr).toContain('no enabled bot "nobody" in bots.yaml; the bots are: helper');
  });
});
