/** Reads a V8 CPU profile (`node --cpu-prof`) and lists where the time went. */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** One function's share of the samples. */
export interface HotSpot {
  readonly name: string;
  /** Where it is: package name or path relative to the repository, and line (1-based). */
  readonly where: string;
  readonly selfMs: number;
  readonly selfPercent: number;
  /** Time in this function and everything it called (recursion counted once). */
  readonly totalPercent: number;
}

/** The profile's hot spots, by self time, and the share of time per area (a package, node
 * internals, botfleet's own code, idle, GC). */
export interface ProfileSummary {
  readonly durationMs: number;
  readonly busyPercent: number;
  readonly top: readonly HotSpot[];
  readonly byArea: readonly { readonly area: string; readonly percent: number }[];
}

function place(url: string): string {
  if (url === '') return '(native)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith('node:')) return url;
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 1);
  const build = url.indexOf('/bench/.build/');
  return build >= 0 ? url.slice(build + '/bench/.build/'.length) : url.replace(/^file:\/\//, '');
}

/** Node's own modules grouped by what they do. */
function nodeArea(url: string): string {
  if (url.includes('/undici/')) return 'node:undici (fetch)';
  if (url.includes('webstreams')) return 'node:web streams (fetch bodies)';
  if (/node:(_http|http|https)/.test(url)) return 'node:http';
  if (/node:(net|dns|internal\/net|internal\/stream_base)/.test(url)) return 'node:net';
  if (url.includes('streams')) return 'node:streams';
  if (url.includes('/modules/') || url.includes('internal/bootstrap')) return 'node:module loading';
  if (/timers|task_queues|async_hooks|promises/.test(url)) return 'node:timers and ticks';
  if (/event_target|node:events|abort_controller/.test(url)) return 'node:events and abort signals';
  return 'node:other';
}

function area(node: ProfileNode): string {
  const { functionName, url } = node.callFrame;
  if (functionName === '(idle)' || functionName === '(program)' || functionName === '(garbage collector)')
    return functionName;
  const where = place(url);
  if (where.startsWith('dist/')) return 'botfleet (dist/)';
  if (where.startsWith('node:')) return nodeArea(where);
  if (where === '(native)') return '(native)';
  return where;
}

/** A part of a profile's life, in ms from its first sample (to leave out start-up and shutdown). */
export interface ProfileWindow {
  readonly fromMs: number;
  readonly toMs: number;
}

/** Summarises the profile at `path` (only the samples inside `window`, when given): the `limit`
 * hottest functions by self time. */
export function summariseProfile(path: string, limit = 15, window?: ProfileWindow): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<number, number>();
  let elapsedMs = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    elapsedMs += ms;
    if (window !== undefined && (elapsedMs < window.fromMs || elapsedMs > window.toMs)) return;
    self.set(id, (self.get(id) ?? 0) + ms);
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...self]
    .filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)')
    .reduce((a, [, ms]) => a + ms, 0);
  const busy = total - idle;

  const key = (node: ProfileNode): string =>
    `${node.callFrame.functionName || '(anonymous)'}\t${place(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`;
  const selfByKey = new Map<string, number>();
  const totalByKey = new Map<string, number>();
  const areas = new Map<string, number>();
  for (const [id, ms] of self) {
    const node = byId.get(id);
    if (node === undefined) continue;
    selfByKey.set(key(node), (selfByKey.get(key(node)) ?? 0) + ms);
    areas.set(area(node), (areas.get(area(node)) ?? 0) + ms);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const k = key(byId.get(at) as ProfileNode);
      if (seen.has(k)) continue;
      seen.add(k);
      totalByKey.set(k, (totalByKey.get(k) ?? 0) + ms);
    }
  }
  const top = [...selfByKey]
    .filter(([k]) => !k.startsWith('(idle)'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([k, ms]) => {
      const [name = '', where = ''] = k.split('\t');
      return {
        name,
        where,
        selfMs: ms,
        selfPercent: (100 * ms) / busy,
        totalPercent: (100 * (totalByKey.get(k) ?? 0)) / busy,
      };
    });
  const byArea = [...areas]
    .filter(([a]) => a !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .map(([name, ms]) => ({ area: name, percent: (100 * ms) / busy }));
  return { durationMs: total, busyPercent: (100 * busy) / total, top, byArea };
}

/** The summary as Markdown lines. Percentages are of busy (non-idle) time. */
export function formatProfile(title: string, summary: ProfileSummary): string {
  const lines = [
    `**${title}**: ${(summary.durationMs / 1000).toFixed(1)} s of samples, busy ${summary.busyPercent.toFixed(0)}% of it. Shares of busy time:`,
    '',
    `by area: ${summary.byArea
      .slice(0, 10)
      .map((a) => `${a.area} ${a.percent.toFixed(1)}%`)
      .join(', ')}`,
    '',
    '| function | where | self | total |',
    '|---|---|---:|---:|',
    ...summary.top.map(
      (h) => `| \`${h.name}\` | ${h.where} | ${h.selfPercent.toFixed(1)}% | ${h.totalPercent.toFixed(1)}% |`,
    ),
  ];
  return lines.join('\n');
}
