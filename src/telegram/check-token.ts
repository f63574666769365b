/** `botfleet check --online` for Telegram: asks getMe with each bot's token. */
import { Api, Bot, GrammyError } from 'grammy';
import type { BotConfig } from '../config/types.js';
import { TOKEN_CHECK_TIMEOUT_MS } from '../defaults.js';
import { errorMessage } from '../errors.js';
import { maskUrl, maskUrlCredentialsIn } from '../mask.js';
import { grammySignal } from './grammy-compat.js';
import { isTokenRejected } from './telegram-errors.js';

/** What getMe said about one bot's token. */
export type TokenCheck =
  | { readonly ok: true; readonly username: string }
  | { readonly ok: false; readonly problem: string };

/** Calls getMe once (no retries) with a `timeoutMs` limit. Never throws; never echoes the token. */
export async function checkToken(bot: BotConfig, timeoutMs = TOKEN_CHECK_TIMEOUT_MS): Promise<TokenCheck> {
  const setup = botSetupProblem(bot);
  if (setup !== undefined) return { ok: false, problem: setup };
  const api = new Api(bot.token, { apiRoot: bot.telegram.apiRoot });
  try {
    const me = await api.getMe(grammySignal(AbortSignal.timeout(timeoutMs)));
    return { ok: true, username: me.username };
  } catch (error) {
    if (isTokenRejected(error)) {
      return { ok: false, problem: 'Telegram rejected the token; get a new one from @BotFather' };
    }
    if (error instanceof GrammyError) {
      return { ok: false, problem: `Telegram answered ${error.error_code} ${error.description}` };
    }
    // grammY's HttpError keeps the token out of its message (sensitiveLogs is off).
    return {
      ok: false,
      problem: `cannot reach ${maskUrl(bot.telegram.apiRoot)} (${errorMessage(error)})`,
    };
  }
}

/** Why grammY would refuse to set up `bot` (it checks the token and `apiRoot` when a client is
 * built), or undefined. Offline and instant; never echoes the token or a URL's password. */
export function botSetupProblem(bot: BotConfig): string | undefined {
  try {
    new Bot(bot.token, { client: { apiRoot: bot.telegram.apiRoot } });
    return undefined;
  } catch (error) {
    // Converted to a problem the caller reports.
    return setupErrorText(error);
  }
}

/** The message of an error grammY threw while setting up a bot, with any password in a URL it
 * quotes (its messages may quote the apiRoot) masked. */
export function setupErrorText(error: unknown): string {
  return maskUrlCredentialsIn(errorMessage(error));
}
