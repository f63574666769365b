/** `botfleet check --online` for Telegram: asks getMe with each bot's token. */
import { Api, GrammyError } from 'grammy';
import type { BotConfig } from '../config/types.js';
import { grammySignal } from './start-bot.js';

/** What getMe said about one bot's token. */
export type TokenCheck =
  | { readonly ok: true; readonly username: string }
  | { readonly ok: false; readonly problem: string };

/** Calls getMe once (no retries) with a `timeoutMs` limit. Never throws; never echoes the token. */
export async function checkToken(bot: BotConfig, timeoutMs = 10_000): Promise<TokenCheck> {
  const api = new Api(bot.token, { apiRoot: bot.telegram.apiRoot });
  try {
    const me = await api.getMe(grammySignal(AbortSignal.timeout(timeoutMs)));
    return { ok: true, username: me.username };
  } catch (error) {
    if (error instanceof GrammyError) {
      const rejected = error.error_code === 401 || error.error_code === 404;
      return {
        ok: false,
        problem: rejected
          ? 'Telegram rejected the token; get a new one from @BotFather'
          : `Telegram answered ${error.error_code} ${error.description}`,
      };
    }
    // grammY's HttpError keeps the token out of its message (sensitiveLogs is off).
    return {
      ok: false,
      problem: `cannot reach ${bot.telegram.apiRoot} (${error instanceof Error ? error.message : String(error)})`,
    };
  }
}
