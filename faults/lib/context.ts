/** What every scenario gets, and what it gives back. */

/** One figure of the report. */
export interface Row {
  readonly scenario: string;
  readonly figure: string;
  readonly goal: string;
  readonly value: string;
  /** null: not judged (informational). */
  readonly met: boolean | null;
  /** A known, open bug this figure shows (the report says which); a miss then does not fail
   * the run. */
  readonly known?: string;
}

/** A scenario's result. */
export interface ScenarioResult {
  readonly rows: Row[];
  readonly notes: string[];
  /** Model requests that carried a message of a user outside `access`. */
  readonly outsiderModelCalls: number;
  /** botfleet processes that exited on their own (crashes) and stack traces in their output. */
  readonly crashes: number;
}

/** Shared by the scenarios. */
export interface Context {
  readonly quick: boolean;
  readonly progress: (line: string) => void;
  /** Whether the shared Redis on 6379 answers. */
  readonly redis: boolean;
}

/** A figure that must be at most `max`. */
export function atMost(scenario: string, figure: string, value: number, max: number, unit = ''): Row {
  return { scenario, figure, goal: `≤ ${max}${unit}`, value: `${round(value)}${unit}`, met: value <= max };
}

/** A figure that must be at least `min`. */
export function atLeast(scenario: string, figure: string, value: number, min: number, unit = ''): Row {
  return { scenario, figure, goal: `≥ ${min}${unit}`, value: `${round(value)}${unit}`, met: value >= min };
}

/** An informational figure. */
export function info(scenario: string, figure: string, value: string): Row {
  return { scenario, figure, goal: '—', value, met: null };
}

function round(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

/** Lines of a botfleet output that look like a stack trace. */
export function stackTraces(output: string): number {
  return output
    .split('\n')
    .filter((line) => /^\s+at .+\(.+:\d+:\d+\)$|^\s+at file:\/\//.test(line) || /"stack":"/.test(line)).length;
}

/** Waits until `check` is true (polled), or throws after `timeoutMs`. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`faults: timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
