/** planReload: which bots a reload starts, stops, restarts or only updates. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';
import { isEmptyPlan, planReload } from '../src/fleet-plan.js';
import { REPO_ROOT } from './support/cli.js';

const env = { TEST_OPENAI_KEY: 'k', TEST_HELPER_TOKEN: '111:helper' };
const base = await loadConfig({ file: 'test/fixtures/config/valid-full.yaml', cwd: REPO_ROOT, env });
const [helper, chef] = base.bots;
if (!helper || !chef) throw new Error('fixture changed: expected helper and chef');

describe('planReload', () => {
  it('finds nothing to do for the same config', () => {
    expect(isEmptyPlan(planReload(base, base))).toBe(true);
  });

  it('restarts a bot whose token, apiRoot or concurrency changed, and only updates other changes', () => {
    const next = {
      ...base,
      bots: [
        { ...helper, telegram: { ...helper.telegram, maxConcurrentUpdates: 5 } },
        { ...chef, systemPrompt: 'New prompt.', provider: { ...chef.provider, timeoutMs: 5000 } },
      ],
    };
    const plan = planReload(base, next);
    expect(plan.restarted.map((bot) => bot.id)).toEqual(['helper']);
    expect(plan.updated.map((bot) => bot.id)).toEqual(['chef']);
    expect(
      planReload(base, { ...base, bots: [{ ...helper, token: '111:other' }, chef] }).restarted.map((b) => b.id),
    ).toEqual(['helper']);
  });

  it('only updates a bot whose waiting limits changed: they are read per message', () => {
    const telegram = { ...helper.telegram, maxWaitingPerConversation: 7, maxWaitingUpdates: 77 };
    const plan = planReload(base, { ...base, bots: [{ ...helper, telegram }, chef] });
    expect(plan.restarted).toEqual([]);
    expect(plan.updated.map((bot) => bot.id)).toEqual(['helper']);
  });

  it('adds, removes, and flags a storage change without touching bots', () => {
    const plan = planReload(base, {
      ...base,
      bots: [chef, { ...helper, id: 'helper2' }],
      storage: { ...base.storage, namespace: 'other' },
    });
    expect(plan.added.map((bot) => bot.id)).toEqual(['helper2']);
    expect(plan.removed).toEqual(['helper']);
    expect(plan.storageChanged).toBe(true);
    expect(plan.updated).toEqual([]);
  });

  it('flags a server change as needing a restart, and only a real one', () => {
    expect(planReload(base, { ...base }).serverChanged).toBe(false);
    const plan = planReload(base, { ...base, server: { port: 9464, host: '0.0.0.0' } });
    expect(plan.serverChanged).toBe(true);
    expect(isEmptyPlan(plan)).toBe(false);
    expect(plan.updated).toEqual([]);
  });
});
