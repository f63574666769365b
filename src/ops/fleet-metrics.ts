/**
 * The metrics port (answer/metrics.ts) implemented with prom-client, in a registry of its own
 * (no global state), plus the fleet-level series: each bot's `up` gauge, read from its state at
 * scrape time, and config reloads. A bot removed by a reload has its series removed with it.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, type Metric, Registry } from 'prom-client';
import type { BotMetrics, ModelCall, SummaryCall } from '../answer/metrics.js';

/** How a reload ended: `applied`, or `rejected` (nothing changed; the log says why). */
export type ReloadResult = 'applied' | 'rejected';

/** The fleet's metrics: the port the bots write to, and what the fleet and the server need. */
export interface FleetMetrics extends BotMetrics {
  /** Every series, Node's default metrics among them. */
  readonly registry: Registry;
  configReload(result: ReloadResult): void;
  /** Removes every series labelled with `bot` (a reload removed it). */
  forgetBot(bot: string): void;
}

/** Seconds; model calls take from a fraction of a second to minutes. */
const MODEL_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120];
/** Seconds; our own work around a reply: milliseconds normally, more when Telegram is slow. */
const ADDED_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Creates the metrics; `upOf` gives each running bot's `up` value (1 polling, 0 otherwise). */
export function createFleetMetrics(upOf: () => Iterable<readonly [bot: string, up: 0 | 1]>): FleetMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  /** Per bot, per metric, every label set used (by its JSON): what forgetBot removes. */
  const seen = new Map<string, Map<Metric<string>, Map<string, Record<string, string>>>>();
  const used: Used = (metric, labels) => {
    const mine = seen.get(labels.bot) ?? new Map<Metric<string>, Map<string, Record<string, string>>>();
    seen.set(labels.bot, mine);
    const sets = mine.get(metric) ?? new Map<string, Record<string, string>>();
    mine.set(metric, sets);
    const key = JSON.stringify(labels);
    if (!sets.has(key)) sets.set(key, labels);
    return labels;
  };
  const m = defineMetrics(registry, upOf);
  return {
    registry,
    updateReceived: (bot) => m.updates.inc(used(m.updates, { bot })),
    replySent(bot, addedSeconds) {
      m.replies.inc(used(m.replies, { bot }));
      if (addedSeconds !== undefined) m.added.observe(used(m.added, { bot }), addedSeconds);
    },
    modelRequest: (call) => recordModelCall(m, call, used),
    summaryCall: (call) => recordSummaryCall(m, call, used),
    error: (bot, kind) => m.errors.inc(used(m.errors, { bot, kind })),
    configReload: (result) => m.reloads.inc({ result }),
    forgetBot(bot) {
      for (const [metric, sets] of seen.get(bot) ?? []) {
        for (const labels of sets.values()) (metric as Counter<string>).remove(labels);
      }
      seen.delete(bot);
    },
  };
}

type Metrics = ReturnType<typeof defineMetrics>;
/** Notes `labels` (holding `bot`) as used by `metric` and returns them. */
type Used = <T extends { bot: string } & Record<string, string>>(metric: Metric<string>, labels: T) => T;

function recordModelCall(m: Metrics, call: ModelCall, used: Used): void {
  const where = { bot: call.bot, provider: call.provider, model: call.model };
  m.requests.inc(used(m.requests, { ...where, outcome: call.outcome }));
  m.latency.observe(used(m.latency, where), call.seconds);
  m.tokens.inc(used(m.tokens, { ...where, direction: 'prompt' }), call.promptTokens);
  m.tokens.inc(used(m.tokens, { ...where, direction: 'completion' }), call.completionTokens);
}

function recordSummaryCall(m: Metrics, call: SummaryCall, used: Used): void {
  const where = { bot: call.bot, provider: call.provider, model: call.model };
  m.summaries.inc(used(m.summaries, { ...where, outcome: call.outcome }));
  m.summaryTokens.inc(used(m.summaryTokens, { ...where, direction: 'prompt' }), call.promptTokens);
  m.summaryTokens.inc(used(m.summaryTokens, { ...where, direction: 'completion' }), call.completionTokens);
}

function defineMetrics(registry: Registry, upOf: () => Iterable<readonly [string, 0 | 1]>) {
  const registers = [registry];
  const model = ['bot', 'provider', 'model'] as const;
  return {
    updates: new Counter({
      name: 'botfleet_updates_received_total',
      help: 'Message updates that reached a bot',
      labelNames: ['bot'],
      registers,
    }),
    replies: new Counter({
      name: 'botfleet_replies_sent_total',
      help: 'Replies delivered: model answers and commands',
      labelNames: ['bot'],
      registers,
    }),
    requests: new Counter({
      name: 'botfleet_model_requests_total',
      help: 'Model requests by outcome: ok, or why they failed',
      labelNames: [...model, 'outcome'],
      registers,
    }),
    errors: new Counter({
      name: 'botfleet_errors_total',
      help: 'Errors by kind: model, storage, delivery, polling, unexpected',
      labelNames: ['bot', 'kind'],
      registers,
    }),
    tokens: new Counter({
      name: 'botfleet_model_tokens_total',
      help: "Model tokens by direction, from the provider's usage (the tokenizer's count when it sends none)",
      labelNames: [...model, 'direction'],
      registers,
    }),
    summaries: new Counter({
      name: 'botfleet_summary_calls_total',
      help: 'Summary calls (window.summary) by outcome: ok, empty, stale, storage, or why the model request failed',
      labelNames: [...model, 'outcome'],
      registers,
    }),
    summaryTokens: new Counter({
      name: 'botfleet_summary_tokens_total',
      help: 'Tokens spent on summaries by direction (not in botfleet_model_tokens_total)',
      labelNames: [...model, 'direction'],
      registers,
    }),
    latency: new Histogram({
      name: 'botfleet_model_latency_seconds',
      help: 'Model request time, from the request to the end of the reply',
      labelNames: model,
      buckets: MODEL_BUCKETS,
      registers,
    }),
    added: new Histogram({
      name: 'botfleet_reply_added_latency_seconds',
      help: "Time from an update's arrival to its reply's delivery, minus the model's time",
      labelNames: ['bot'],
      buckets: ADDED_BUCKETS,
      registers,
    }),
    up: new Gauge({
      name: 'botfleet_bot_up',
      help: '1 while a bot is polling, 0 otherwise',
      labelNames: ['bot'],
      registers,
      collect() {
        this.reset(); // bots removed by a reload vanish
        for (const [bot, up] of upOf()) this.set({ bot }, up);
      },
    }),
    held: new Gauge({
      name: 'botfleet_bots_held',
      help: 'Bots this process runs: on Redis, the bots whose lease this replica holds',
      registers,
      collect() {
        this.set([...upOf()].length);
      },
    }),
    reloads: new Counter({
      name: 'botfleet_config_reloads_total',
      help: 'Config reloads by result: applied, or rejected (nothing changed)',
      labelNames: ['result'],
      registers,
    }),
  };
}
