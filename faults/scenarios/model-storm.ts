import type { Context, ScenarioResult } from '../lib/context.js';
export async function modelStorm(_ctx: Context): Promise<ScenarioResult> {
  return { rows: [], notes: [], outsiderModelCalls: 0, crashes: 0 };
}
