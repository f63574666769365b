/** What every scenario gets and returns. */
import type { LoadSummary } from '../lib/load-run.js';
import type { BenchOptions } from '../lib/options.js';
import { formatProfile, summariseProfile } from '../lib/profile.js';
import type { Row } from '../lib/report.js';

/** Shared by the scenarios of one run. */
export interface ScenarioContext {
  readonly options: BenchOptions;
  /** Writes a progress line to stderr. */
  readonly progress: (line: string) => void;
  /** Folder for CPU profiles of botfleet runs, when --profile was given. */
  readonly profileDir: string | undefined;
  /** Whether the shared Redis answered PING. */
  readonly redis: boolean;
}

/** An SVG chart to write next to the results. */
export interface Chart {
  /** File name stem, e.g. `latency-vs-load`. */
  readonly name: string;
  readonly alt: string;
  readonly svg: string;
}

/** What a scenario produced. */
export interface ScenarioResult {
  readonly id: number;
  readonly title: string;
  readonly rows: Row[];
  /** Sentences for the notes under the table. */
  readonly notes: string[];
  /** Raw figures for the JSON file. */
  readonly details: Record<string, unknown>;
  readonly charts: Chart[];
  /** Markdown summaries of CPU profiles taken. */
  readonly profiles: string[];
}

/** Rounds for the JSON file and the notes. */
export const round = (value: number, digits = 2): number =>
  Number.isFinite(value) ? Number(value.toFixed(digits)) : value;

/** Cores of other processes above which a run counts as disturbed. */
export const DISTURBED_CORES = 0.25;

/** One sentence about where the CPU went in a load run (and a warning when other work on the
 * machine took a share of the two cores). */
export function cpuNote(label: string, s: LoadSummary): string {
  const redis = s.redisCores >= 0.01 ? `, ${s.redisCores.toFixed(2)} in redis-server` : '';
  const warning =
    s.otherCores > DISTURBED_CORES
      ? ` **Disturbed: other processes on the machine used ${s.otherCores.toFixed(2)} cores meanwhile.**`
      : '';
  return `${label}: ${s.messagesPerSecond.toFixed(0)} replies/s using ${s.systemCores.toFixed(2)} cores in the system under test, ${s.fakesCores.toFixed(2)} in the fakes${redis}, ${s.interruptCores.toFixed(2)} in kernel interrupts, ${s.otherCores.toFixed(2)} in other processes.${warning}`;
}

/** The profile summary of `s`, when one was written. */
export function profileOf(title: string, s: LoadSummary): string[] {
  if (s.profile === undefined) return [];
  try {
    return [formatProfile(`${title}, measurement window only`, summariseProfile(s.profile, 15, s.profileWindow))];
  } catch (error) {
    // A missing or cut profile (killed process) must not lose the run's figures.
    return [`**${title}**: profile unreadable (${String(error)})`];
  }
}

/** The load summary without bulky fields, rounded, for the JSON file. */
export function loadDetails(s: LoadSummary): Record<string, unknown> {
  const dist = (d: LoadSummary['added']): Record<string, number> => ({
    count: d.count,
    p50: round(d.p50),
    p95: round(d.p95),
    p99: round(d.p99),
    max: round(d.max),
    mean: round(d.mean),
  });
  return {
    spec: s.spec,
    messagesPerSecond: round(s.messagesPerSecond),
    posted: s.posted,
    unanswered: s.unanswered,
    cpuSecondsPer1000: round(s.cpuSecondsPer1000, 3),
    systemCores: round(s.systemCores),
    fakesCores: round(s.fakesCores),
    redisCores: round(s.redisCores),
    interruptCores: round(s.interruptCores),
    stealCores: round(s.stealCores),
    otherCores: round(s.otherCores),
    addedMs: dist(s.added),
    addedFromSendMs: dist(s.addedFromSend),
    modelMs: dist(s.model),
    peakRssMb: round(s.peakRssMb, 1),
  };
}
