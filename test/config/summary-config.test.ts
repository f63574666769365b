/** `window.summary`: off by default, resolved against the bot's provider and model, and a
 * summary provider that is not declared is a FILE:LINE:COL problem like the others. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { DEFAULT_SUMMARY_PROMPT } from '../../src/config/resolve.js';
import { formatFleetSummary } from '../../src/config/summary.js';
import { ConfigError } from '../../src/errors.js';

const HEAD = [
  'version: 1',
  'providers:',
  '  main: { baseUrl: "http://main/v1" }',
  '  cheap: { baseUrl: "http://cheap/v1" }',
  'defaults:',
  '  provider: main',
  '  model: big',
];

describe('window.summary', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'botfleet-summary-config-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  const load = async (lines: readonly string[]) => {
    await writeFile(join(dir, 'bots.yaml'), `${[...HEAD, ...lines].join('\n')}\n`);
    return loadConfig({ file: 'bots.yaml', cwd: dir, env: {} });
  };

  /** The problems `lines` are refused with, as LINE:COL PATH: MESSAGE. */
  const problemsOf = async (lines: readonly string[]): Promise<string[]> => {
    const error = await load(lines).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => `${p.line}:${p.col} ${p.path}: ${p.message}`);
  };

  it('is off by default and takes the bot provider, model and the built-in prompt when on', async () => {
    const fleet = await load([
      'bots:',
      '  plain: { token: "1:a" }',
      '  summed: { token: "2:b", window: { maxTurns: 6, summary: { maxTokens: 300 } } }',
      '  other: { token: "3:c", window: { summary: { provider: cheap, model: small, maxTokens: 200, prompt: "Keep it." } } }',
    ]);
    const [plain, summed, other] = fleet.bots;
    expect(plain?.window.summary).toBeNull();
    expect(summed?.window).toMatchObject({ maxTurns: 6, summary: { model: 'big', maxTokens: 300 } });
    expect(summed?.window.summary?.provider.name).toBe('main');
    expect(summed?.window.summary?.prompt).toBe(DEFAULT_SUMMARY_PROMPT);
    expect(DEFAULT_SUMMARY_PROMPT).toMatch(/every fact, name/);
    expect(other?.window.summary).toMatchObject({ model: 'small', maxTokens: 200, prompt: 'Keep it.' });
    expect(other?.window.summary?.provider).toMatchObject({ name: 'cheap', baseUrl: 'http://cheap/v1' });
    const printed = formatFleetSummary(fleet);
    expect(printed).toContain('window   20 turns, 8000 tokens\n');
    expect(printed).toContain(
      'window   6 turns, 8000 tokens, older turns summarised by main / big (up to 300 tokens)\n',
    );
  });

  it('is inherited from defaults, and a bot can turn it off with null', async () => {
    const fleet = await load([
      '  window: { summary: { maxTokens: 400 } }',
      'bots:',
      '  a: { token: "1:a" }',
      '  b: { token: "2:b", window: { summary: null } }',
    ]);
    expect(fleet.bots[0]?.window.summary?.maxTokens).toBe(400);
    expect(fleet.bots[1]?.window.summary).toBeNull();
  });

  it('reports an undeclared summary provider at its value, and a missing maxTokens', async () => {
    const problems = await problemsOf([
      '  window: { summary: { maxTokens: 400, provider: nope } }',
      'bots:',
      '  a:',
      '    token: "1:a"',
      '    window:',
      '      summary: { maxTokens: 100, provider: olama }',
      '  b: { token: "2:b", window: { summary: { model: x } } }',
    ]);
    expect(problems).toEqual([
      '8:50 defaults.window.summary.provider: unknown provider "nope"; declared providers: main, cheap',
      '13:44 bots.a.window.summary.provider: unknown provider "olama"; declared providers: main, cheap',
      '14:32 bots.b.window.summary.maxTokens: is required but missing',
    ]);
  });

  it('reports a summary bigger than half the window, where its size is written, once', async () => {
    const problems = await problemsOf([
      '  window: { summary: { maxTokens: 3000 } }',
      'bots:',
      '  fits: { token: "1:a", window: { maxTokens: 6000 } }',
      '  small: { token: "2:b", window: { maxTokens: 4000 } }',
      '  alsoSmall: { token: "3:c", window: { maxTokens: 2000 } }',
      '  own: { token: "4:d", window: { summary: { maxTokens: 5000 } } }',
    ]);
    expect(problems).toEqual([
      '8:35 defaults.window.summary.maxTokens: a summary of up to 3000 tokens leaves too little of window.maxTokens (4000, bot small) for the conversation; make it at most half of window.maxTokens (2000), or raise window.maxTokens',
      '13:56 bots.own.window.summary.maxTokens: a summary of up to 5000 tokens leaves too little of window.maxTokens (8000) for the conversation; make it at most half of window.maxTokens (4000), or raise window.maxTokens',
    ]);
    // Half the window is fine.
    await expect(
      load(['bots:', '  a: { token: "1:a", window: { maxTokens: 1000, summary: { maxTokens: 500 } } }']),
    ).resolves.toBeDefined();
  });

  it("check names where the operators' server listens", async () => {
    const on = await load(['server: { port: 9464 }', 'bots:', '  a: { token: "1:a" }']);
    expect(formatFleetSummary(on)).toContain('server     http://127.0.0.1:9464: /healthz, /readyz, /metrics\n');
    const free = await load(['server: { port: 0, host: 0.0.0.0 }', 'bots:', '  a: { token: "1:a" }']);
    expect(formatFleetSummary(free)).toContain(
      'server     0.0.0.0, a free port (logged at start): /healthz, /readyz, /metrics\n',
    );
  });
});
