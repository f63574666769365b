/**
 * One measured load run: fresh fakes, a fresh system under test, its bots polling, a load
 * driver, then the fakes' records turned into figures.
 */
import { mkdirSync } from 'node:fs';
import { startFakes } from './fakes.js';
import { callCursor, waitForPolling } from './polling.js';
import type { PrefillSpec } from './prefill.js';
import { cpuSeconds } from './proc.js';
import { messageTimings, recordCursors } from './records.js';
import { type Distribution, distribution } from './stats.js';
import { makeTokens, type StorageKind, type SystemKind, startSystem } from './sut.js';
import { closedLoop, type LoadResult, makeChats, openLoop } from './traffic.js';

/** What to run. */
export interface LoadSpec {
  readonly kind: SystemKind;
  readonly storage: StorageKind;
  readonly bots: number;
  readonly chatsPerBot: number;
  readonly modelMs: number;
  /** Closed loop (pipeline limit) or an open loop at `ratePerBot` messages/s per bot. */
  readonly shape: 'closed' | 'open';
  readonly ratePerBot?: number;
  readonly warmupMs: number;
  readonly measureMs: number;
  /** Open loop: longest wait for the replies still owed after the load. */
  readonly drainMs?: number;
  /** Closed loop: spread the chats' first messages over this many ms. */
  readonly staggerMs?: number;
  /** Profile the system under test into this folder (file name `${label}.cpuprofile`). */
  readonly profileDir?: string;
  /** Names the run in progress lines and profile files. */
  readonly label: string;
  /** botfleet only: its ops server on this port (metrics on), scraped every SCRAPE_INTERVAL_MS. */
  readonly serverPort?: number;
  /** botfleet only: more YAML lines under `defaults:` (see SystemOptions.defaults). */
  readonly defaults?: readonly string[];
  /** botfleet only: stored conversations written before it starts (see prefill.ts). */
  readonly prefill?: PrefillSpec;
}

/** How often a run with the ops server scrapes /metrics: more often than Prometheus would. */
const SCRAPE_INTERVAL_MS = 1000;

/** Scrapes `port`'s /metrics every SCRAPE_INTERVAL_MS until the returned function is called. */
function scrapeEvery(port: number | undefined): () => void {
  if (port === undefined) return () => undefined;
  const timer = setInterval(() => {
    fetch(`http://127.0.0.1:${port}/metrics`)
      .then((response) => response.text())
      .catch(() => {
        // A failed scrape (the fleet starting or stopping) changes no figure: they come from the fakes.
      });
  }, SCRAPE_INTERVAL_MS);
  return () => clearInterval(timer);
}

/** Figures of one load run. */
export interface LoadSummary {
  readonly spec: LoadSpec;
  /** Replies per second over the measurement window. */
  readonly messagesPerSecond: number;
  /** Messages queued in total (warm-up included) and how many got no reply. */
  readonly posted: number;
  readonly unanswered: number;
  /** CPU seconds of the system under test per 1,000 replies in the window. */
  readonly cpuSecondsPer1000: number;
  /** Share of one core the system and the fakes used during the window (1 = one core). */
  readonly systemCores: number;
  readonly fakesCores: number;
  /** Cores the shared redis-server used during the window. */
  readonly redisCores: number;
  /** Cores in interrupts (mostly loopback networking) and stolen by the hypervisor. */
  readonly interruptCores: number;
  readonly stealCores: number;
  /** Cores used by other processes on the machine: other jobs that disturb the figures. */
  readonly otherCores: number;
  /** Added latency (ms): open loop, of the messages queued after the warm-up; closed loop, of
   * the replies sent in the window. */
  readonly added: Distribution;
  readonly addedFromSend: Distribution;
  readonly model: Distribution;
  /** Peak resident memory of the system under test, MB. */
  readonly peakRssMb: number;
  readonly profile: string | undefined;
  /** The measurement window in ms from the process's start, to cut the profile to it. */
  readonly profileWindow: { readonly fromMs: number; readonly toMs: number };
}

let runCounter = 0;

/** Runs `spec` and summarises it. Everything started is stopped, also on failure. */
export async function runLoad(spec: LoadSpec): Promise<LoadSummary> {
  const fakes = await startFakes({ modelMs: spec.modelMs, recordGetUpdates: true });
  const tokens = makeTokens(spec.bots, `${process.pid}x${++runCounter}`);
  const profileName = `${spec.label}.cpuprofile`;
  if (spec.profileDir !== undefined) mkdirSync(spec.profileDir, { recursive: true });
  try {
    await fakes.addBots(tokens);
    const since = await callCursor(fakes);
    const system = await startSystem({
      kind: spec.kind,
      fakes,
      tokens,
      storage: spec.storage,
      ...(spec.serverPort !== undefined && { serverPort: spec.serverPort }),
      ...(spec.defaults !== undefined && { defaults: spec.defaults }),
      ...(spec.prefill !== undefined && { prefill: spec.prefill }),
      ...(spec.profileDir !== undefined && { profile: { dir: spec.profileDir, name: profileName } }),
    });
    const stopScraping = scrapeEvery(spec.serverPort);
    try {
      await waitForPolling(fakes, system, tokens, since, 30_000);
      const cursors = await recordCursors(fakes);
      const chats = makeChats(tokens, spec.chatsPerBot);
      const common = {
        fakes,
        system,
        chats,
        warmupMs: spec.warmupMs,
        measureMs: spec.measureMs,
        fakesCpu: () => cpuSeconds(fakes.pid),
        ...(spec.staggerMs !== undefined && { staggerMs: spec.staggerMs }),
      };
      const result: LoadResult =
        spec.shape === 'closed'
          ? await closedLoop(common)
          : await openLoop({
              ...common,
              ratePerSecond: (spec.ratePerBot ?? 1) * spec.bots,
              drainMs: spec.drainMs ?? 10_000,
            });
      const peakRssMb = system.memory().peak;
      const timings = await messageTimings(fakes, result.posted, cursors);
      const { from, to } = result;
      const seconds = (to.at - from.at) / 1000;
      const replies = to.sentCount - from.sentCount;
      // Start-up effects stay out: an open loop counts the messages queued after the warm-up
      // (replies owed at the end included), a closed loop the replies inside the window.
      const fromFake = from.at + fakes.clockOffsetMs;
      const toFake = to.at + fakes.clockOffsetMs;
      const measured =
        spec.shape === 'open'
          ? timings.filter((t) => t.queuedAt >= fromFake)
          : timings.filter((t) => t.repliedAt >= fromFake && t.repliedAt <= toFake);
      return {
        spec,
        messagesPerSecond: replies / seconds,
        posted: result.posted.size,
        unanswered: spec.shape === 'open' ? result.posted.size - timings.length : 0,
        cpuSecondsPer1000: replies === 0 ? NaN : ((to.cpu - from.cpu) / replies) * 1000,
        systemCores: (to.cpu - from.cpu) / seconds,
        fakesCores: (to.fakesCpu - from.fakesCpu) / seconds,
        redisCores: (to.redisCpu - from.redisCpu) / seconds,
        interruptCores: (to.machine.interrupts - from.machine.interrupts) / seconds,
        stealCores: (to.machine.steal - from.machine.steal) / seconds,
        otherCores:
          (to.machine.processes -
            from.machine.processes -
            (to.cpu - from.cpu) -
            (to.fakesCpu - from.fakesCpu) -
            (to.benchCpu - from.benchCpu) -
            (to.redisCpu - from.redisCpu)) /
          seconds,
        added: distribution(measured.map((t) => t.addedMs)),
        addedFromSend: distribution(measured.map((t) => t.addedFromSendMs)),
        model: distribution(measured.map((t) => t.modelMs)),
        peakRssMb,
        profile: spec.profileDir === undefined ? undefined : `${spec.profileDir}/${profileName}`,
        profileWindow: { fromMs: from.at - system.spawnedAt, toMs: to.at - system.spawnedAt },
      };
    } finally {
      stopScraping();
      // Figures are taken: a profiled run must exit by itself to write its profile; any other
      // gets a short grace (an overloaded fleet would spend seconds draining thousands of replies).
      const code = await system.stop(spec.profileDir === undefined ? 3000 : 60_000);
      if (code !== 0 && code !== null)
        process.stderr.write(
          `bench: ${spec.label}: ${system.kind} exited with ${code}; output ends with:\n${system.outputTail(10)}\n`,
        );
    }
  } finally {
    await fakes.stop();
  }
}
