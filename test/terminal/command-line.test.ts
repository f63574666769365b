/** Usage of `chat` and `history`, checked before the config is read (main() in-process). */
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';

async function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main({
    argv,
    env: {},
    cwd: '/nonexistent',
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    isTTY: false,
  });
  return { code, stdout, stderr };
}

describe('chat and history usage', () => {
  it.each([
    [['chat'], 'chat needs a bot id: botfleet chat BOT'],
    [['chat', 'a', 'b'], 'unexpected argument "b"'],
    [['history'], 'unknown history command ""'],
    [['history', 'frob'], 'unknown history command "frob"; they are list, show, export, import, forget, reset'],
    [['history', 'list'], 'history list needs a bot id'],
    [['history', 'show', 'bot'], 'history show needs a chat id'],
    [['history', 'show', 'bot', '12x'], 'chat must be an integer, got "12x"'],
    [['history', 'export'], 'history export needs a bot id, or --all'],
    [['history', 'export', 'bot', '--all'], 'history export takes a bot id or --all, not both'],
    [['history', 'forget'], 'history forget needs --user ID'],
    [['history', 'forget', '--user', '0'], '--user must be a Telegram user id (a positive integer)'],
    [['history', 'reset', 'bot'], 'history reset needs --chat ID'],
    [['run', '--user', '5'], '--user goes with history'],
    [['check', 'extra'], 'unexpected argument "extra"'],
  ])('%j is a usage error', async (argv, message) => {
    const result = await run(...argv);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toContain(message);
  });

  it('lists chat and every history verb in --help', async () => {
    const { stdout } = await run('--help');
    for (const verb of ['chat BOT', 'list BOT', 'show BOT', 'export', 'import', 'forget --user', 'reset BOT'])
      expect(stdout).toContain(verb);
  });
});
