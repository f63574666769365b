/** loadConfig on real files: defaults, interpolation, .env, resolution and immutability. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/errors.js';
import { REPO_ROOT } from '../support/cli.js';

const FIXTURES = join(REPO_ROOT, 'test/fixtures/config');
const ENV = { TEST_OPENAI_KEY: 'sk-test-key', TEST_HELPER_TOKEN: '111:helper-secret' };

async function problemsOf(promise: Promise<unknown>): Promise<string[]> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).problems.map((p) => `${p.line}:${p.col} ${p.path}: ${p.message}`);
}

describe('loadConfig', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'botfleet-config-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('merges built-in defaults, the defaults section and each bot, and drops disabled bots', async () => {
    const fleet = await loadConfig({ file: 'valid-full.yaml', cwd: FIXTURES, env: ENV });
    expect(fleet.bots.map((bot) => bot.id)).toEqual(['helper', 'chef']);
    expect(fleet.disabledBotIds).toEqual(['sleepy']);
    expect(fleet.storage).toEqual({ url: 'redis://fleet:s3cret-pass@127.0.0.1:6379/2', namespace: 'fleet-a' });
    const [helper, chef] = fleet.bots;
    expect(helper).toMatchObject({
      token: '111:helper-secret',
      model: 'gpt-4o-mini',
      systemPrompt: 'You help.',
      window: { maxTurns: 10, maxTokens: 8000 },
      provider: {
        name: 'openai',
        apiKey: 'sk-test-key',
        baseUrl: 'https://api.openai.com/v1',
        timeoutMs: 60000,
        maxRetries: 2,
      },
      temperature: null,
      access: { users: null, chats: null },
      groups: { reply: 'mention', memory: 'chat' },
    });
    expect(helper?.replies.reset).toBe('Forgotten.');
    expect(helper?.replies.modelError).toMatch(/try again/);
    expect(chef).toMatchObject({
      model: 'llama3.2',
      window: { maxTurns: 10, maxTokens: 4000 },
      provider: { name: 'local', apiKey: null, baseUrl: 'http://127.0.0.1:11434/v1', timeoutMs: 120000 },
      temperature: 0.5,
      access: { users: [111, 222], chats: null },
      groups: { reply: 'mention', memory: 'user' },
    });
    expect(chef).not.toHaveProperty('enabled');
    expect([...fleet.providers.keys()]).toEqual(['openai', 'local']);
  });

  it('gives a minimal bot every built-in default from the schema', async () => {
    await writeFile(
      join(dir, 'bots.yaml'),
      'version: 1\nproviders: { openai: { apiKey: k } }\nbots:\n  solo:\n    token: "1:x"\n',
    );
    const fleet = await loadConfig({ file: 'bots.yaml', cwd: dir, env: {} });
    expect(fleet.storage).toEqual({ url: `sqlite://${join(dir, 'data/botfleet.sqlite')}`, namespace: 'botfleet' });
    expect(fleet.bots[0]).toEqual({
      id: 'solo',
      token: '1:x',
      provider: { name: 'openai', apiKey: 'k', baseUrl: 'https://api.openai.com/v1', timeoutMs: 60000, maxRetries: 2 },
      model: 'gpt-4o-mini',
      systemPrompt: 'You are a helpful assistant.',
      window: { maxTurns: 20, maxTokens: 8000, summary: null },
      temperature: null,
      maxReplyTokens: null,
      greeting:
        'Hello! Send me a message and I will answer. /reset starts a new conversation, /help lists the commands.',
      replies: {
        modelError: 'Sorry, I could not get an answer right now. Please try again in a moment.',
        storageError: 'Sorry, my memory is unavailable right now. Please try again in a moment.',
        notAllowed: 'Sorry, this bot is private. Your Telegram user id is {userId}.',
        nonText: 'Sorry, I can only read text messages for now.',
        reset: "Done: I have forgotten our conversation. Let's start again.",
        storeFailed:
          'I answered, but could not save this exchange, so I will not remember it. Repeat anything I should keep in mind.',
        historyLost: 'Sorry, I could not read our earlier conversation, so I am starting again from a blank page.',
        busy: 'I am still answering your earlier messages, so I did not read this one (nor any you send before my next answer). Please send it again once I have replied.',
        cutOff: '… (cut off: I could not finish this answer, please ask again)',
      },
      access: { users: null, chats: null },
      groups: { reply: 'mention', memory: 'chat' },
      streaming: 'edit',
      formatting: 'markdown',
      telegram: {
        apiRoot: 'https://api.telegram.org',
        maxConcurrentUpdates: 100,
        maxWaitingPerConversation: 10,
        maxWaitingUpdates: 1000,
        firstMessageDelayMs: 300,
        editIntervalMs: 1000,
        groupEditIntervalMs: 3000,
      },
      queue: 'sequential',
    });
  });

  it('returns a deeply frozen config', async () => {
    const fleet = await loadConfig({ file: 'valid-full.yaml', cwd: FIXTURES, env: ENV });
    const bot = fleet.bots[0] as unknown as { window: { maxTurns: number } };
    expect(() => {
      bot.window.maxTurns = 99;
    }).toThrow(TypeError);
    expect(Object.isFrozen(fleet.bots)).toBe(true);
  });

  it('fills ${VAR}, ${VAR:-fallback} and $${, reading unquoted numbers as numbers', async () => {
    const fleet = await loadConfig({ file: 'escapes.yaml', cwd: FIXTURES, env: { ...ENV, TEST_TURNS: '7' } });
    expect(fleet.bots[0]?.systemPrompt).toBe('Write templates like ${name}; you are a helper.');
    expect(fleet.bots[0]?.window.maxTurns).toBe(7);
  });

  it('keeps a quoted ${VAR} a string, so a number field reports it', async () => {
    await writeFile(
      join(dir, 'bots.yaml'),
      'version: 1\nproviders: { openai: { apiKey: k } }\nbots:\n  a:\n    token: "1:x"\n    window: { maxTurns: "${TURNS}" }\n',
    );
    expect(await problemsOf(loadConfig({ file: 'bots.yaml', cwd: dir, env: { TURNS: '5' } }))).toEqual([
      '6:25 bots.a.window.maxTurns: must be a whole number, not a string',
    ]);
  });

  it('keeps an all-digit ${VAR} a string where the schema wants a string, a number where it wants one', async () => {
    await writeFile(
      join(dir, 'bots.yaml'),
      'version: 1\nproviders:\n  openai:\n    apiKey: ${KEY}\nbots:\n  a:\n    token: "1:x"\n    model: ${MODEL}\n    greeting: ${YES}\n    window:\n      maxTurns: ${TURNS}\n',
    );
    const env = { KEY: '0123456789', MODEL: '4.5', YES: 'true', TURNS: '5' };
    const fleet = await loadConfig({ file: 'bots.yaml', cwd: dir, env });
    expect(fleet.bots[0]?.provider.apiKey).toBe('0123456789');
    expect(fleet.bots[0]?.model).toBe('4.5');
    expect(fleet.bots[0]?.greeting).toBe('true');
    expect(fleet.bots[0]?.window.maxTurns).toBe(5);
  });

  it('reads .env from the working directory, with real environment variables winning', async () => {
    await writeFile(join(dir, '.env'), 'BOT_TOKEN=42:from-dotenv\nMODEL=from-dotenv\n# comment\n');
    await writeFile(
      join(dir, 'bots.yaml'),
      'version: 1\nproviders: { openai: { apiKey: k } }\nbots:\n  a:\n    token: ${BOT_TOKEN}\n    model: ${MODEL}\n',
    );
    const fleet = await loadConfig({ file: 'bots.yaml', cwd: dir, env: { MODEL: 'from-env' } });
    expect(fleet.bots[0]?.token).toBe('42:from-dotenv');
    expect(fleet.bots[0]?.model).toBe('from-env');
  });

  it('rejects a malformed reference and explains the $${ escape', async () => {
    await writeFile(
      join(dir, 'bots.yaml'),
      'version: 1\nproviders: { openai: { apiKey: k } }\nbots:\n  a:\n    token: "1:x"\n    greeting: "costs ${9dollars}"\n    model: "${UNCLOSED"\n',
    );
    expect(await problemsOf(loadConfig({ file: 'bots.yaml', cwd: dir, env: {} }))).toEqual([
      '6:15 bots.a.greeting: ${9dollars} is not a valid variable name (letters, digits and _, not starting with a digit); write $${ for a literal ${',
      "7:12 bots.a.model: '${' is not closed by '}'; write $${ for a literal ${",
    ]);
  });

  it('makes a relative sqlite path absolute against the working directory and keeps an absolute one', async () => {
    const write = (url: string) =>
      writeFile(
        join(dir, 'bots.yaml'),
        `version: 1\nstorage: { url: "${url}" }\nproviders: { openai: { apiKey: k } }\nbots: { a: { token: "1:x" } }\n`,
      );
    await write('sqlite://state/fleet.db');
    expect((await loadConfig({ file: 'bots.yaml', cwd: dir, env: {} })).storage.url).toBe(
      `sqlite://${dir}/state/fleet.db`,
    );
    await write('sqlite:///var/lib/botfleet/fleet.db');
    expect((await loadConfig({ file: 'bots.yaml', cwd: dir, env: {} })).storage.url).toBe(
      'sqlite:///var/lib/botfleet/fleet.db',
    );
  });

  it('allows two disabled or one disabled bot to share a token, and rejects an unknown default provider', async () => {
    await writeFile(
      join(dir, 'bots.yaml'),
      'version: 1\nproviders: { local: { baseUrl: "http://x/v1" } }\nbots:\n  a: { token: "1:x", provider: local }\n  b: { token: "1:x", enabled: false, provider: local }\n  c: { token: "2:x" }\n',
    );
    expect(await problemsOf(loadConfig({ file: 'bots.yaml', cwd: dir, env: {} }))).toEqual([
      '6:3 bots.c: unknown provider "openai" (bot c uses the default); declared providers: local',
    ]);
  });

  it('resolves the file path against the working directory but reports it as given', async () => {
    await mkdir(join(dir, 'conf'));
    await writeFile(join(dir, 'conf/fleet.yaml'), 'version: 1\nbots: {}\n');
    const problems = await loadConfig({ file: 'conf/fleet.yaml', cwd: dir, env: {} }).then(
      () => [],
      (error: ConfigError) => error.problems,
    );
    expect(problems).toEqual([
      { file: 'conf/fleet.yaml', line: 2, col: 7, path: 'bots', message: 'must have at least 1 entry' },
    ]);
  });
});

describe('loadConfig on YAML the parser rejects', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'botfleet-yaml-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  const load = async (text: string) => {
    await writeFile(join(dir, 'bots.yaml'), text);
    return problemsOf(loadConfig({ file: 'bots.yaml', cwd: dir, env: { KEY: 'k' } }));
  };

  it('reports an unquoted ${VAR} inside a flow mapping once, with a hint, and without echoing the file', async () => {
    expect(
      await load('version: 1\nproviders:\n  openai: { apiKey: ${KEY} }\nbots:\n  a: { token: "1:very-secret" }\n'),
    ).toEqual([
      `3:22 : YAML syntax error: unexpected '{' here; quote values that contain '{', '}', '[', ']', ',', ': ' or ' #' (for example "\${VAR}" inside { })`,
    ]);
  });

  it('never echoes the source text of an unexpected token', async () => {
    const problems = await load('version: 1\nbots: }\n  a: { token: "1:very-secret" }\n');
    expect(problems.join('\n')).not.toContain('very-secret');
    expect(problems[0]).toMatch(/^2:7 : YAML syntax error: unexpected '}' here/);
  });

  it('reports an alias to an anchor that does not exist', async () => {
    expect(await load('version: 1\nproviders: { openai: { apiKey: k } }\nbots:\n  a: *missing\n')).toEqual([
      '4:6 : unknown alias *missing; define the anchor &missing before it',
    ]);
  });

  it('accepts anchors and aliases, and refuses an alias bomb', async () => {
    expect(
      await load(
        'version: 1\nproviders: { openai: { apiKey: k } }\nw: &w { maxTurns: 3 }\nbots:\n  a: { token: "1:x", window: *w }\n',
      ),
    ).toEqual(['3:1 w: unknown key; expected one of: version, storage, server, providers, defaults, bots']);
    const bomb = ['version: 1', 'a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 8; i += 1)
      bomb.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    const problems = await load(`${bomb.join('\n')}\n`);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^1:1 : YAML error: .*alias/i);
  });

  it('accepts YAML merge keys (<<: *anchor) and points problems inside a merged map at the anchor', async () => {
    const base = [
      'version: 1',
      'providers: { openai: { apiKey: k } }',
      'bots:',
      '  a: &base',
      '    token: "1:x"',
      '    model: gpt-x',
      '    window: { maxTurns: 3 }',
      '  b:',
      '    <<: *base',
      '    token: "2:y"',
    ];
    await writeFile(join(dir, 'bots.yaml'), `${base.join('\n')}\n`);
    const fleet = await loadConfig({ file: 'bots.yaml', cwd: dir, env: {} });
    expect(fleet.bots.map((bot) => [bot.id, bot.token, bot.model, bot.window.maxTurns])).toEqual([
      ['a', '1:x', 'gpt-x', 3],
      ['b', '2:y', 'gpt-x', 3],
    ]);
    const broken = [...base.slice(0, 6), '    window: { maxTurns: -1, maxTokns: 5 }', ...base.slice(7)];
    expect(await load(`${broken.join('\n')}\n`)).toEqual([
      '7:25 bots.a.window.maxTurns: must be >= 1',
      '7:25 bots.b.window.maxTurns: must be >= 1',
      '7:29 bots.a.window.maxTokns: unknown key; did you mean "maxTokens"?',
      '7:29 bots.b.window.maxTokns: unknown key; did you mean "maxTokens"?',
    ]);
  });
});
