/**
 * The prompt window never exceeds `window.maxTokens` as the real tokenizer counts it, whether
 * the window was sized by the UTF-8 byte bound (no tokenizer) or counted exactly, with or
 * without a running summary (window.summary), and the byte
 * bound keeps exactly the turns exact counting would: property-based, over random
 * conversations of random Unicode (emoji, CJK, combining marks, lone surrogates, special-token
 * text).
 */
import fc from 'fast-check';
import { encode } from 'gpt-tokenizer';
import { describe, expect, it } from 'vitest';
import { computeWindow, MESSAGE_OVERHEAD_TOKENS, REQUEST_OVERHEAD_TOKENS } from '../../src/answer/prompt-window.js';
import type { ModelMessage } from '../../src/llm/llm-client.js';

const exact = (text: string): number => encode(text, { disallowedSpecial: new Set() }).length;

/** The request's tokens as the real tokenizer counts them. */
const requestTokens = (messages: readonly ModelMessage[]): number =>
  messages.reduce((sum, m) => sum + exact(m.content) + MESSAGE_OVERHEAD_TOKENS, REQUEST_OVERHEAD_TOKENS);

/** Text mixing ASCII words, any code point (lone surrogates included), emoji sequences and
 * text that looks like special tokens. */
const text = fc
  .array(
    fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 20 }),
      fc.string({ maxLength: 60 }),
      fc.constantFrom('<|endoftext|>', '👩‍👩‍👧‍👦', '🙂🏽', 'é', 'é', '漢字かな', '\u0000', ' ', '\n\n', 'Привет'),
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.join(''));

const turn = fc.record({ user: text, assistant: text });

describe('computeWindow against the real tokenizer', () => {
  it('never sends more than window.maxTokens tokens, and keeps the newest turns that fit', () => {
    fc.assert(
      fc.property(
        text,
        fc.array(turn, { maxLength: 30 }),
        text,
        fc.integer({ min: 1, max: 25 }),
        fc.integer({ min: 40, max: 3000 }),
        fc.option(text, { nil: undefined }),
        (systemPrompt, turns, userText, maxTurns, maxTokens, summary) => {
          const result = computeWindow({
            systemPrompt,
            turns,
            userText,
            window: { maxTurns, maxTokens },
            ...(summary === undefined ? {} : { summary }),
          });
          const counted = requestTokens(result.messages);
          expect(counted).toBeLessThanOrEqual(maxTokens);
          expect(result.tokens).toBeGreaterThanOrEqual(counted);
          expect(result.tokens).toBeLessThanOrEqual(maxTokens);
          if (result.tokensExact) expect(result.tokens).toBe(counted);
          // Not one turn fewer than exact counting keeps: the next older turn does not fit.
          const next = turns[turns.length - result.keptTurns - 1];
          if (next !== undefined && result.keptTurns < maxTurns)
            expect(counted + exact(next.user) + exact(next.assistant) + 2 * MESSAGE_OVERHEAD_TOKENS).toBeGreaterThan(
              maxTokens,
            );
        },
      ),
      { numRuns: 300 },
    );
  });
});
