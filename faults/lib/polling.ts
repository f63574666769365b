/** Waiting for a fleet to poll the fake Bot API. */
import type { Fakes } from './fakes.js';

/** The fake's next call seq (a cursor). */
export async function callCursor(fakes: Fakes): Promise<number> {
  return (await fakes.telegram<{ nextSeq: number }>('/__fake/info')).nextSeq;
}

/** Resolves once `token` made a `method` call with seq ≥ `since`; throws after `timeoutMs`. */
export async function waitForCall(
  fakes: Fakes,
  token: string,
  method: string,
  since: number,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const wait = Math.min(5000, Math.max(1, deadline - Date.now()));
    const { calls } = await fakes.telegram<{ calls: unknown[] }>(
      `/__fake/calls?since=${since}&token=${encodeURIComponent(token)}&method=${method}&wait=${wait}`,
    );
    if (calls.length > 0) return;
  }
  throw new Error(`faults: no ${method} of the bot within ${timeoutMs} ms`);
}
