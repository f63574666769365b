/** Which network failures are retried: a call is repeated only when repeating it cannot
 * show the user something twice. */
import { HttpError, type Transformer } from 'grammy';
import { describe, expect, it } from 'vitest';
import { retryNetworkErrors } from '../../src/telegram/network-retry.js';

type ApiCallFn = Parameters<Transformer>[0];

/** A raw call that fails with `code` (as node-fetch reports it) `failures` times, then works. */
function flaky(code: string, failures: number): { call: ApiCallFn; count: () => number } {
  let calls = 0;
  const call = (async () => {
    calls += 1;
    if (calls <= failures) {
      const cause = Object.assign(new Error(`request failed, reason: ${code}`), { code, errno: code });
      throw new HttpError("Network request for 'sendMessage' failed!", cause);
    }
    return { ok: true, result: true };
  }) as unknown as ApiCallFn;
  return { call, count: () => calls };
}

describe('retryNetworkErrors', () => {
  const retry = retryNetworkErrors(3, 1);
  const send = (prev: ApiCallFn, method: string) =>
    retry(prev, method as 'sendMessage', { chat_id: 1, text: 'hi' } as never, undefined);

  it.each(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN'])('retries sendMessage after %s: it never left', async (code) => {
    const raw = flaky(code, 2);
    await expect(send(raw.call, 'sendMessage')).resolves.toMatchObject({ ok: true });
    expect(raw.count()).toBe(3);
  });

  it.each(['ECONNRESET', 'ETIMEDOUT'])('does not retry sendMessage after %s: it may have arrived', async (code) => {
    const raw = flaky(code, 1);
    await expect(send(raw.call, 'sendMessage')).rejects.toBeInstanceOf(HttpError);
    expect(raw.count()).toBe(1);
  });

  it.each(['sendChatAction', 'setMyCommands', 'getMe'])(
    'retries %s after ECONNRESET: repeating it is harmless',
    async (method) => {
      const raw = flaky('ECONNRESET', 1);
      await expect(send(raw.call, method)).resolves.toMatchObject({ ok: true });
      expect(raw.count()).toBe(2);
    },
  );
});
