import type { Context, ScenarioResult } from '../lib/context.js';
export async function badInput(_ctx: Context): Promise<ScenarioResult> {
  return { rows: [], notes: [], outsiderModelCalls: 0, crashes: 0 };
}
