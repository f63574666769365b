/** The Grafana dashboard and the README's metric table name exactly the metrics botfleet
 * exports, so neither rots when a metric is renamed. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFleetMetrics } from '../../src/ops/fleet-metrics.js';
import { REPO_ROOT } from '../support/cli.js';

const exported = async (): Promise<string[]> => {
  const metrics = createFleetMetrics(() => []);
  const all = await metrics.registry.getMetricsAsJSON();
  return all.map((metric) => metric.name).filter((name) => name.startsWith('botfleet_'));
};

describe('ops/grafana-dashboard.json', () => {
  it('queries only metrics botfleet exports, and shows every one of them', async () => {
    const dashboard = JSON.parse(await readFile(join(REPO_ROOT, 'ops/grafana-dashboard.json'), 'utf8')) as {
      panels: { targets: { expr: string }[] }[];
    };
    const queried = new Set(
      dashboard.panels
        .flatMap((panel) => panel.targets.map((target) => target.expr))
        .flatMap((expr) => expr.match(/botfleet_[a-z_]+/g) ?? [])
        .map((name) => name.replace(/_(bucket|count|sum)$/, '')),
    );
    expect([...queried].sort()).toEqual((await exported()).sort());
  });

  it("matches the README's metric table", async () => {
    const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
    const documented = [...readme.matchAll(/^\| `(botfleet_[a-z_]+)` \|/gm)].map((match) => match[1]);
    expect(documented.sort()).toEqual((await exported()).sort());
  });
});
