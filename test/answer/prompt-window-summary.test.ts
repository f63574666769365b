/** The summary in the prompt window: a marked system message after the system prompt, counted
 * against maxTokens, truncated (never over the budget) when it does not fit. */
import { encode } from 'gpt-tokenizer';
import { describe, expect, it } from 'vitest';
import { computeWindow, SUMMARY_HEADING } from '../../src/answer/prompt-window.js';

const turns = Array.from({ length: 10 }, (_, n) => ({ user: `question ${n}`, assistant: `answer ${n}` }));
const counted = (messages: readonly { content: string }[]) =>
  messages.reduce((sum, message) => sum + encode(message.content).length + 3, 3);

describe('computeWindow with a summary', () => {
  it('sends it as a second system message, before the kept turns, and counts it', () => {
    const result = computeWindow({
      systemPrompt: 'Be brief.',
      summary: 'FACT: the user is Ada.',
      turns,
      userText: 'and now?',
      window: { maxTurns: 3, maxTokens: 8000 },
    });
    expect(result.messages.slice(0, 2)).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'system', content: `${SUMMARY_HEADING}FACT: the user is Ada.` },
    ]);
    expect(result.messages[2]).toEqual({ role: 'user', content: 'question 7' });
    // Within the byte bound here (nothing counted): the figure bounds the real count.
    expect(result.tokensExact).toBe(false);
    expect(result.tokens).toBeGreaterThanOrEqual(counted(result.messages));
  });

  it('sends no summary message when there is none', () => {
    const result = computeWindow({ systemPrompt: 'S', turns, userText: 'u', window: { maxTurns: 1, maxTokens: 500 } });
    expect(result.messages.filter((message) => message.role === 'system')).toHaveLength(1);
  });

  it('truncates a summary over the budget and never exceeds maxTokens', () => {
    const summary = 'FACT: a long remembered detail of the conversation. '.repeat(400);
    for (const maxTokens of [256, 300, 1000, 2000]) {
      const result = computeWindow({
        systemPrompt: 'Be brief.',
        summary,
        turns,
        userText: 'what do you remember?',
        window: { maxTurns: 6, maxTokens },
      });
      expect(counted(result.messages)).toBe(result.tokens);
      expect(result.tokens).toBeLessThanOrEqual(maxTokens);
      expect(result.messages[1]?.content.startsWith(`${SUMMARY_HEADING}FACT: a long`)).toBe(true);
      expect(result.messages[1]?.content).toMatch(/truncated/);
    }
  });
});
