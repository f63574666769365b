import { Bot } from 'grammy';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { spawnFakes } from './spawn-fakes.js';

describe('both fakes in their own process (serve.ts)', () => {
  it('start, are driven over /__fake/, serve the real SDKs and exit 0 on SIGTERM', async () => {
    const fakes = await spawnFakes(['--openai-latency-ms', '20']);
    try {
      const token = '4242:bench-token';
      expect(await fakes.telegram('/__fake/bots', { token, username: 'bench_bot' })).toEqual({ id: 4242 });
      const { update_ids } = await fakes.telegram<{ update_ids: number[] }>('/__fake/sendTexts', {
        items: [1, 2, 3].map((n) => ({ token, chatId: 100 + n, userId: 100 + n, text: `msg ${n}` })),
      });
      const bot = new Bot(token, { client: { apiRoot: fakes.apiRoot } });
      const updates = await bot.api.getUpdates({ timeout: 5 });
      expect(updates.map((u) => u.update_id)).toEqual(update_ids);
      for (const update of updates)
        await bot.api.sendMessage(update.message?.chat.id ?? 0, `re: ${update.message?.text}`);
      const { messages } = await fakes.telegram<{ messages: Array<{ chatId: number; text: string; at: number }> }>(
        `/__fake/sent?token=${token}`,
      );
      expect(messages.map((m) => m.text)).toEqual(['re: msg 1', 're: msg 2', 're: msg 3']);
      const { timings } = await fakes.telegram<{ timings: Array<{ deliveredAt: number }> }>(
        `/__fake/timings?token=${token}`,
      );
      expect(messages[0]?.at).toBeGreaterThan(timings[0]?.deliveredAt ?? Infinity); // reply after hand-out, same clock

      await fakes.openai('/__fake/enqueue', { replies: ['scripted'] });
      const client = new OpenAI({ baseURL: fakes.baseUrl, apiKey: 'sk-any', maxRetries: 0 });
      const completion = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(completion.choices[0]?.message.content).toBe('scripted');
      const { requests } = await fakes.openai<{
        requests: Array<{ body: unknown; outcome: { firstByteAt: number } }>;
        next: number;
      }>('/__fake/requests?since=0');
      expect(requests[0]?.body).toMatchObject({ messages: [{ role: 'user', content: 'hi' }] });
      await expect(fakes.telegram('/__fake/nope', {})).rejects.toThrow(/unknown control route/);
    } finally {
      expect(await fakes.stop()).toBe(0);
    }
  });
});
