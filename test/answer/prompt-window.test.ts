/** The history window as a pure function: order, turn and token limits, truncation. */
import { encode } from 'gpt-tokenizer';
import { describe, expect, it } from 'vitest';
import { computeWindow, TRUNCATION_MARK, truncateToTokens } from '../../src/answer/prompt-window.js';
import type { ModelMessage } from '../../src/llm/llm-client.js';
import type { Turn } from '../../src/memory/value-format.js';

/** Tokens of a request counted independently: content + 3 per message + 3 per request. */
function requestTokens(messages: readonly ModelMessage[]): number {
  return messages.reduce(
    (sum, message) => sum + encode(message.content, { disallowedSpecial: new Set() }).length + 3,
    3,
  );
}

const textTokens = (text: string): number => encode(text, { disallowedSpecial: new Set() }).length;
const t = (n: number, text = `turn ${n}`): Pick<Turn, 'user' | 'assistant'> => ({
  user: `${text} asked`,
  assistant: `${text} answered`,
});
const roomy = { maxTurns: 20, maxTokens: 8000 };

describe('computeWindow', () => {
  it('sends the system prompt first, then the turns oldest first, then the new message', () => {
    const result = computeWindow({
      systemPrompt: 'You are kind.',
      turns: [t(1), t(2)],
      userText: 'hello',
      window: roomy,
    });
    expect(result.messages).toEqual([
      { role: 'system', content: 'You are kind.' },
      { role: 'user', content: 'turn 1 asked' },
      { role: 'assistant', content: 'turn 1 answered' },
      { role: 'user', content: 'turn 2 asked' },
      { role: 'assistant', content: 'turn 2 answered' },
      { role: 'user', content: 'hello' },
    ]);
    // A window this small fits by its UTF-8 bytes: no tokenizer, the bytes are the bound.
    expect(result.tokensExact).toBe(false);
    expect(result.tokens).toBeGreaterThanOrEqual(requestTokens(result.messages));
    expect(result).toMatchObject({ keptTurns: 2, truncated: { systemPrompt: false, userText: false } });
  });

  it('keeps only the newest maxTurns turns', () => {
    const result = computeWindow({
      systemPrompt: 'S',
      turns: [t(1), t(2), t(3), t(4), t(5)],
      userText: 'next',
      window: { maxTurns: 2, maxTokens: 8000 },
    });
    expect(result.messages.map((m) => m.content)).toEqual([
      'S',
      'turn 4 asked',
      'turn 4 answered',
      'turn 5 asked',
      'turn 5 answered',
      'next',
    ]);
  });

  it('fits a 200-turn conversation far over the budget: the newest turns, and no room for one more', () => {
    const turns = Array.from({ length: 200 }, (_, n) =>
      t(n, `turn ${n}: ${'we talked about many things at length. '.repeat(8)}`),
    );
    const window = { maxTurns: 200, maxTokens: 1500 };
    const result = computeWindow({ systemPrompt: 'You remember everything.', turns, userText: 'summarise', window });
    expect(result.tokens).toBe(requestTokens(result.messages));
    expect(result.tokens).toBeLessThanOrEqual(1500);
    expect(result.keptTurns).toBeGreaterThan(2);
    expect(result.messages).toHaveLength(2 + 2 * result.keptTurns);
    expect(result.messages[0]).toEqual({ role: 'system', content: 'You remember everything.' });
    expect(result.messages.slice(1, -1).map((m) => m.content)).toEqual(
      turns.slice(200 - result.keptTurns).flatMap((turn) => [turn.user, turn.assistant]),
    );
    const older = turns[200 - result.keptTurns - 1];
    expect(older).toBeDefined();
    expect(result.tokens + textTokens(older?.user ?? '') + textTokens(older?.assistant ?? '') + 6).toBeGreaterThan(
      1500,
    );
  });

  it('keeps turns whole and contiguous: a turn too big ends the window, older small ones stay out', () => {
    const huge = { user: 'tell me everything', assistant: 'word '.repeat(3000) };
    const result = computeWindow({
      systemPrompt: 'S',
      turns: [t(1), huge, t(3)],
      userText: 'and?',
      window: { maxTurns: 20, maxTokens: 1000 },
    });
    expect(result.messages.map((m) => m.content)).toEqual(['S', 'turn 3 asked', 'turn 3 answered', 'and?']);
  });

  it('truncates a single message too big for the budget, keeping its beginning and marking the cut', () => {
    const userText = `BEGINNING ${'lorem ipsum dolor sit amet '.repeat(5000)}END`;
    const result = computeWindow({
      systemPrompt: 'Be brief.',
      turns: [t(1), t(2)],
      userText,
      window: { maxTurns: 20, maxTokens: 1000 },
    });
    const sent = result.messages.at(-1)?.content ?? '';
    expect(result.truncated).toEqual({ systemPrompt: false, userText: true });
    expect(result.keptTurns).toBe(0);
    expect(result.messages[0]).toEqual({ role: 'system', content: 'Be brief.' });
    expect(sent.startsWith('BEGINNING lorem ipsum dolor sit amet')).toBe(true);
    expect(sent.endsWith(TRUNCATION_MARK)).toBe(true);
    expect(sent).not.toContain('END');
    expect(result.tokens).toBe(requestTokens(result.messages));
    expect(result.tokens).toBeLessThanOrEqual(1000);
    expect(result.tokens).toBeGreaterThan(980);
  });

  it('cuts an oversized system prompt too, leaving the new message at least half the budget', () => {
    const systemPrompt = `RULES ${'always be precise and polite. '.repeat(3000)}`;
    const userText = `QUESTION ${'why is the sky blue? '.repeat(3000)}`;
    const result = computeWindow({ systemPrompt, turns: [t(1)], userText, window: { maxTurns: 20, maxTokens: 2000 } });
    const [system, user] = result.messages;
    expect(result.messages).toHaveLength(2);
    expect(result.truncated).toEqual({ systemPrompt: true, userText: true });
    expect(system?.role).toBe('system');
    expect(system?.content.startsWith('RULES always')).toBe(true);
    expect(user?.content.startsWith('QUESTION why')).toBe(true);
    expect(textTokens(user?.content ?? '')).toBeGreaterThanOrEqual(990);
    expect(requestTokens(result.messages)).toBeLessThanOrEqual(2000);
  });

  it('stays within every budget and counts exactly what it sends', () => {
    const turns = Array.from({ length: 60 }, (_, n) => t(n, `${n} ${'é 漢字 🙂 text '.repeat(n % 7)}`));
    for (const maxTokens of [256, 300, 512, 777, 1024, 2048, 4096]) {
      for (const userLength of [1, 50, 500, 5000]) {
        const result = computeWindow({
          systemPrompt: 'Système 🙂',
          turns,
          userText: 'ü🙂 '.repeat(userLength),
          window: { maxTurns: 40, maxTokens },
        });
        expect(result.tokens).toBe(requestTokens(result.messages));
        expect(result.tokens).toBeLessThanOrEqual(maxTokens);
        expect(result.messages[0]?.role).toBe('system');
      }
    }
  });

  it('treats special-token text such as <|endoftext|> as ordinary text', () => {
    const result = computeWindow({
      systemPrompt: 'S',
      turns: [{ user: '<|endoftext|>', assistant: '<|im_start|>' }],
      userText: 'what is <|endoftext|>?',
      window: roomy,
    });
    expect(result.messages.map((m) => m.content)).toEqual([
      'S',
      '<|endoftext|>',
      '<|im_start|>',
      'what is <|endoftext|>?',
    ]);
  });
});

describe('truncateToTokens', () => {
  it('returns short text unchanged and never ends the kept part inside a character', () => {
    expect(truncateToTokens('short', 100)).toBe('short');
    const cut = truncateToTokens('🙂漢字'.repeat(500), 40);
    expect(textTokens(cut)).toBeLessThanOrEqual(40);
    expect(cut.endsWith(TRUNCATION_MARK)).toBe(true);
    expect(cut.slice(0, -TRUNCATION_MARK.length)).not.toMatch(/\uFFFD/);
    expect(cut.startsWith('🙂漢字')).toBe(true);
  });
});
