import type { Context, ScenarioResult } from '../lib/context.js';
export async function telegramStorm(_ctx: Context): Promise<ScenarioResult> {
  return { rows: [], notes: [], outsiderModelCalls: 0, crashes: 0 };
}
