/** When bots start polling, seen from the fake Bot API (it must record getUpdates calls). */
import { performance } from 'node:perf_hooks';
import type { Fakes } from './fakes.js';
import type { RunningSystem } from './sut.js';

/** Waits until every token in `tokens` has made a getUpdates call with seq >= `since`; resolves
 * with the fake-clock time of each token's first one. Throws after `timeoutMs`, naming how
 * many bots polled, with the system's last output lines. */
export async function waitForPolling(
  fakes: Fakes,
  system: RunningSystem,
  tokens: readonly string[],
  since: number,
  timeoutMs: number,
): Promise<Map<string, number>> {
  const wanted = new Set(tokens);
  const first = new Map<string, number>();
  const deadline = performance.now() + timeoutMs;
  let cursor = since;
  while (first.size < wanted.size) {
    if (performance.now() > deadline) {
      throw new Error(
        `bench: only ${first.size} of ${wanted.size} ${system.kind} bots polled within ${timeoutMs} ms; its output ends with:\n${system.outputTail()}`,
      );
    }
    const { calls, next } = await fakes.telegram<{ calls: { token: string; at: number }[]; next: number }>(
      `/__fake/calls?since=${cursor}&method=getUpdates&wait=200`,
    );
    cursor = next;
    for (const call of calls) if (wanted.has(call.token) && !first.has(call.token)) first.set(call.token, call.at);
  }
  return first;
}

/** The fakes' call log cursor now. */
export async function callCursor(fakes: Fakes): Promise<number> {
  return (await fakes.telegram<{ nextSeq: number }>('/__fake/info')).nextSeq;
}
