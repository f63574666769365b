/**
 * `npm run bench`: runs the selected scenarios (all by default), prints the results table and
 * writes it with the raw figures to bench/results/. See lib/options.ts for the flags.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, cpus, release } from 'node:os';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { redisAnswers, SHARED_REDIS_PORT } from '../harness/redis.js';
import { startFakes } from './lib/fakes.js';
import { type BenchOptions, parseOptions, USAGE } from './lib/options.js';
import { REPO_ROOT, RESULTS_DIR } from './lib/paths.js';
import { cpuModel, machineCpu } from './lib/proc.js';
import { markdownTable } from './lib/report.js';
import { telegramCeiling } from './scenarios/ceiling.js';
import type { ScenarioContext, ScenarioResult } from './scenarios/context.js';
import { cost } from './scenarios/cost.js';
import { cpuPerMessage } from './scenarios/cpu-per-message.js';
import { fleetStart } from './scenarios/fleet-start.js';
import { opsCost } from './scenarios/ops-cost.js';
import { pipelineLimit } from './scenarios/pipeline.js';
import { replicas } from './scenarios/replicas.js';
import { slowModel } from './scenarios/slow-model.js';
import { streaming } from './scenarios/streaming.js';

/** Cores the machine is busy with while this harness only waits: other jobs disturb figures. */
async function backgroundCores(ms: number): Promise<number> {
  const before = machineCpu();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = machineCpu();
  return (after.processes - before.processes + after.steal - before.steal) / (ms / 1000);
}

/** One loopback HTTP exchange to the fakes, measured once per run (ms). */
async function loopbackRoundTrip(): Promise<number> {
  const fakes = await startFakes();
  try {
    await fakes.roundTripMs(100); // warm-up
    return await fakes.roundTripMs(300);
  } finally {
    await fakes.stop();
  }
}

function header(
  options: BenchOptions,
  startedAt: Date,
  wallSeconds: number,
  background: number,
  roundTripMs: number,
): string {
  const command = ['npm run bench', ...(options.argv.length > 0 ? ['--', ...options.argv] : [])].join(' ');
  return [
    `Run ${startedAt.toISOString().replace(/\.\d+Z$/, 'Z')} with \`${command}\` in ${wallSeconds.toFixed(0)} s: Node ${process.version}, ` +
      `${cpuModel()} × ${cpus().length} cores, Linux ${release()} (${arch()}). The fakes run in a process of their own; botfleet and ` +
      `the baseline each run as their own process. Before the run the machine was busy with ${background.toFixed(2)} cores of other work. ` +
      `One loopback HTTP round trip (node:http, keep-alive, this harness to the fake Bot API) takes ${roundTripMs.toFixed(2)} ms here (median).`,
  ].join('\n');
}

async function runScenarios(ctx: ScenarioContext): Promise<ScenarioResult[]> {
  const wanted = ctx.options.scenarios;
  const results: ScenarioResult[] = [];
  if (wanted.has(1)) results.push(await pipelineLimit(ctx));
  if (wanted.has(2)) results.push(await telegramCeiling(ctx));
  if (wanted.has(3)) results.push(await slowModel(ctx));
  if (wanted.has(4) || wanted.has(5)) results.push(...(await fleetStart(ctx)));
  if (wanted.has(6)) results.push(await cost(ctx));
  if (wanted.has(7)) results.push(await opsCost(ctx));
  if (wanted.has(8)) results.push(await streaming(ctx));
  if (wanted.has(9)) results.push(await cpuPerMessage(ctx));
  if (wanted.has(10)) results.push(await replicas(ctx));
  return results.sort((a, b) => a.id - b.id);
}

/** bench/results/missed-goals.md: by how much each goal of a full run is missed and what the
 * profile shows, written by hand after that run (a run cannot profile itself without slowing
 * down what it measures). Added to latest.md, dated, so the two are read together. */
const ANALYSIS_FILE = 'missed-goals.md';

function analysis(options: BenchOptions): string[] {
  const path = join(RESULTS_DIR, ANALYSIS_FILE);
  if (options.resultName !== 'latest' || !existsSync(path)) return [];
  return ['', readFileSync(path, 'utf8').trimEnd()];
}

function render(options: BenchOptions, results: readonly ScenarioResult[], head: string, chartFiles: string[]): string {
  const rows = results.flatMap((r) => r.rows);
  const missed = rows.filter((r) => r.met === false);
  return [
    `# botfleet benchmark results`,
    '',
    head,
    '',
    markdownTable(rows),
    '',
    'Added latency = (sendMessage received by the fake Bot API − update handed out by getUpdates) − (model answer end − model request received), all on the fakes’ clock; “from the user’s send” starts when the update was queued instead, so it also counts the wait for a poll. Ratio = botfleet ÷ baseline. The baseline is the seed’s design: `bot.start()` per token (one update at a time), one JSON blob of history per chat trimmed to 20 turns.',
    '',
    `Goals met: ${rows.filter((r) => r.met === true).length} of ${rows.filter((r) => r.met !== null).length}${missed.length > 0 ? `; missed: ${missed.map((r) => `${r.scenario.split(' (')[0]} ${r.figure}`).join('; ')}` : ''}.`,
    '',
    '## Notes',
    '',
    ...results.flatMap((r) => r.notes.map((n) => `- ${n}`)),
    ...analysis(options),
    ...(chartFiles.length > 0 ? ['', '## Charts', '', ...chartFiles] : []),
    ...(results.some((r) => r.profiles.length > 0)
      ? [
          '',
          '## CPU profiles (node --cpu-prof; timings above are slowed by profiling)',
          '',
          ...results.flatMap((r) => r.profiles.flatMap((p) => [p, ''])),
        ]
      : []),
    options.quick ? '\n(--quick: a smoke run with tiny sizes; its figures mean nothing.)' : '',
  ].join('\n');
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const startedAt = new Date();
  const background = await backgroundCores(1000);
  const t0 = performance.now();
  const profileDir = options.profile ? join(RESULTS_DIR, 'profiles') : undefined;
  const progress = (line: string): void =>
    void process.stderr.write(`bench [${((performance.now() - t0) / 1000).toFixed(0).padStart(3)} s] ${line}\n`);
  const roundTripMs = await loopbackRoundTrip();
  const ctx: ScenarioContext = { options, progress, profileDir, redis: await redisAnswers(SHARED_REDIS_PORT) };
  if (!ctx.redis) progress('no Redis at 127.0.0.1:6379: the Redis variants are skipped');
  if (background > 0.25)
    progress(`the machine is busy with ${background.toFixed(2)} cores of other work: figures will be disturbed`);
  const results = await runScenarios(ctx);
  const wallSeconds = (performance.now() - t0) / 1000;
  mkdirSync(RESULTS_DIR, { recursive: true });
  const prefix = options.resultName === 'latest' ? '' : `${options.resultName}-`;
  const chartFiles: string[] = [];
  for (const chart of results.flatMap((r) => r.charts)) {
    const file = `${prefix}${chart.name}.svg`;
    writeFileSync(join(RESULTS_DIR, file), chart.svg);
    chartFiles.push(`![${chart.alt}](${file})`);
  }
  const markdown = render(
    options,
    results,
    header(options, startedAt, wallSeconds, background, roundTripMs),
    chartFiles,
  );
  const mdPath = join(RESULTS_DIR, `${options.resultName}.md`);
  const jsonPath = join(RESULTS_DIR, `${options.resultName}.json`);
  writeFileSync(mdPath, `${markdown}\n`);
  writeFileSync(
    jsonPath,
    `${JSON.stringify({ startedAt: startedAt.toISOString(), wallSeconds, node: process.version, loopbackRoundTripMs: roundTripMs, backgroundCores: background, cpu: cpuModel(), cores: cpus().length, argv: options.argv, rows: results.flatMap((r) => r.rows), scenarios: results.map((r) => ({ id: r.id, title: r.title, notes: r.notes, details: r.details })) }, null, 2)}\n`,
  );
  process.stdout.write(
    `${markdown}\n\nWritten: ${relative(REPO_ROOT, mdPath)}, ${relative(REPO_ROOT, jsonPath)}${chartFiles.length > 0 ? ', charts' : ''}\n`,
  );
  return 0;
}

process.exitCode = await main();
