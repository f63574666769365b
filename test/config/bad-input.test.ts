/**
 * Every kind of bad config file, run through the built CLI as a user would: the exact
 * `FILE:LINE:COL PATH: message` lines on stderr, exit code 2, and no secret in the output.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

const F = 'test/fixtures/config';
const SECRETS = { TEST_SHARED_TOKEN: '999999:shared-secret-value', TEST_OPENAI_KEY: 'sk-never-print-me' };

const cases: ReadonlyArray<{ name: string; file: string; lines: string[] }> = [
  {
    name: 'a missing file',
    file: `${F}/does-not-exist.yaml`,
    lines: [`${F}/does-not-exist.yaml: no such file; copy config/bots.example.yaml there, or pass --config FILE`],
  },
  {
    name: 'a directory',
    file: `${F}/is-a-directory.yaml`,
    lines: [`${F}/is-a-directory.yaml: is a directory; --config needs a YAML file such as config/bots.yaml`],
  },
  {
    name: 'a file with only comments',
    file: `${F}/empty.yaml`,
    lines: [`${F}/empty.yaml:1:1: file is empty; start from config/bots.example.yaml`],
  },
  {
    name: 'a YAML syntax error',
    file: `${F}/syntax-error.yaml`,
    lines: [`${F}/syntax-error.yaml:6:1: YAML syntax error: missing closing "quote`],
  },
  {
    name: 'a tab indent',
    file: `${F}/tab-indent.yaml`,
    lines: [
      `${F}/tab-indent.yaml:3:1: tabs cannot indent YAML; indent with spaces`,
      `${F}/tab-indent.yaml:4:1: tabs cannot indent YAML; indent with spaces`,
    ],
  },
  {
    name: 'duplicate keys',
    file: `${F}/duplicate-key.yaml`,
    lines: [
      `${F}/duplicate-key.yaml:8:3 bots.helper: duplicate key (first defined on line 6); each key may appear once in a mapping`,
    ],
  },
  {
    name: 'a top level that is a list',
    file: `${F}/top-level-list.yaml`,
    lines: [
      `${F}/top-level-list.yaml:1:1: the top level must be a mapping of version, storage, server, providers, defaults and bots; found a list`,
    ],
  },
  {
    name: 'an unknown key',
    file: `${F}/unknown-key.yaml`,
    lines: [`${F}/unknown-key.yaml:8:5 bots.helper.systemPromt: unknown key; did you mean "systemPrompt"?`],
  },
  {
    name: 'a wrong type',
    file: `${F}/wrong-type.yaml`,
    lines: [`${F}/wrong-type.yaml:9:17 bots.helper.window.maxTurns: must be a whole number, not a string`],
  },
  {
    name: 'a number out of range',
    file: `${F}/out-of-range.yaml`,
    lines: [`${F}/out-of-range.yaml:9:17 bots.chef.window.maxTurns: must be >= 1`],
  },
  {
    name: 'a missing required field',
    file: `${F}/missing-required.yaml`,
    lines: [`${F}/missing-required.yaml:6:3 bots.helper.token: is required but missing`],
  },
  {
    name: 'an unknown provider',
    file: `${F}/unknown-provider.yaml`,
    lines: [
      `${F}/unknown-provider.yaml:8:15 bots.helper.provider: unknown provider "olama"; declared providers: openai`,
    ],
  },
  {
    name: 'two bots with one token',
    file: `${F}/shared-token.yaml`,
    lines: [
      `${F}/shared-token.yaml:9:12 bots.second.token: same token as bots.first; every bot needs its own token from @BotFather (Telegram lets only one process poll a token)`,
    ],
  },
  {
    name: 'a missing ${VAR}',
    file: `${F}/missing-var.yaml`,
    lines: [
      `${F}/missing-var.yaml:4:13 providers.openai.apiKey: environment variable TEST_UNSET_API_KEY is not set; set it in the environment or in .env, or write \${TEST_UNSET_API_KEY:-default}`,
    ],
  },
  {
    name: 'an unsupported storage scheme',
    file: `${F}/bad-storage-scheme.yaml`,
    lines: [
      `${F}/bad-storage-scheme.yaml:3:8 storage.url: must start with sqlite://, redis://, rediss:// or memory://`,
    ],
  },
  {
    name: 'many problems at once',
    file: `${F}/many-problems.yaml`,
    lines: [
      `${F}/many-problems.yaml:1:10 version: must be 1 (the only format version this botfleet reads)`,
      `${F}/many-problems.yaml:3:8 storage.url: must start with sqlite://, redis://, rediss:// or memory://`,
      `${F}/many-problems.yaml:7:16 providers.openai.timeoutMs: must be >= 1000`,
      `${F}/many-problems.yaml:9:3 bots["bad id!"]: must be 1 to 64 letters, digits, '_' or '-', starting with a letter or digit (ids are part of storage keys)`,
      `${F}/many-problems.yaml:12:12 bots.helper.token: does not look like a Telegram bot token (digits, a colon, then letters, digits, '_' or '-'); get one from @BotFather`,
      `${F}/many-problems.yaml:14:14 bots.helper.groups.reply: must be one of: mention, always, never; did you mean "mention"?`,
      `${F}/many-problems.yaml:16:18 bots.helper.access.users[1]: repeats bots.helper.access.users[0]; list each value once`,
      `${F}/many-problems.yaml:17:5 bots.helper.colour: unknown key; expected one of: token, enabled, provider, model, systemPrompt, window, temperature, maxReplyTokens, greeting, replies, access, groups, streaming, formatting, telegram, queue`,
    ],
  },
];

describe('botfleet check on bad input', () => {
  it.each(cases)('reports $name at its line and column, exit 2', async ({ file, lines }) => {
    const result = await runCli(['check', '--config', file], { env: SECRETS });
    expect(result.stderr).toBe(lines.map((line) => `${line}\n`).join(''));
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    for (const secret of Object.values(SECRETS)) expect(result.stderr).not.toContain(secret);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  describe('files made on the fly', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'botfleet-bad-'));
      await writeFile(join(dir, 'zero.yaml'), '');
      await writeFile(
        join(dir, 'latin1.yaml'),
        Buffer.concat([
          Buffer.from('version: 1\nbots:\n  caf'),
          Buffer.from([0xe9]),
          Buffer.from(':\n    token: "1:a"\n'),
        ]),
      );
      await writeFile(
        join(dir, 'utf16.yaml'),
        Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('version: 1\n', 'utf16le')]),
      );
      await writeFile(join(dir, 'huge.yaml'), `version: 1\n# ${'x'.repeat(10 * 1024 * 1024)}\n`);
    });
    afterAll(async () => rm(dir, { recursive: true, force: true }));

    it.each([
      ['an empty (zero-byte) file', 'zero.yaml', ':1:1: file is empty; start from config/bots.example.yaml'],
      ['a non-UTF-8 file', 'latin1.yaml', ':3:6: file is not valid UTF-8 (byte 0xE9); save it as UTF-8'],
      ['a UTF-16 file', 'utf16.yaml', ':1:1: file is UTF-16 text; save it as UTF-8'],
      ['a 10 MB file', 'huge.yaml', ':1:1: file is 10.0 MB, over the 1.0 MB limit; is this the right file?'],
    ])('reports %s, exit 2', async (_name, name, suffix) => {
      const file = join(dir, name);
      const result = await runCli(['check', '--config', file]);
      expect(result.stderr).toBe(`${file}${suffix}\n`);
      expect(result.code).toBe(2);
    });
  });
});
