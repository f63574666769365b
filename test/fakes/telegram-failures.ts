/**
 * Telegram's wording for injected failures (`failNext`): descriptions by status, the two 409
 * conflicts, and the error body with `parameters` as the Bot API sends it.
 */
import type { ApiResponse, TelegramFailure } from './telegram-types.js';

/** Telegram's 409 for two concurrent `getUpdates` of one token. */
export const CONFLICT_POLL =
  'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running';
/** Telegram's 409 for `getUpdates` while a webhook is set. */
export const CONFLICT_WEBHOOK =
  "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";

const DEFAULT_DESCRIPTIONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** The JSON error body for `failure` on `method` (lower-cased): `description` defaults to
 * Telegram's wording, 429 gets `parameters.retry_after` (default 1 s). */
export function failureBody(failure: TelegramFailure, method: string): ApiResponse {
  const retryAfter = failure.retryAfter ?? (failure.status === 429 ? 1 : undefined);
  const fallback =
    failure.status === 409 && method === 'getupdates'
      ? CONFLICT_POLL
      : (DEFAULT_DESCRIPTIONS[failure.status] ?? 'Error');
  const description =
    failure.description ?? (failure.status === 429 ? `Too Many Requests: retry after ${retryAfter}` : fallback);
  const parameters = {
    ...(retryAfter !== undefined && { retry_after: retryAfter }),
    ...(failure.migrateToChatId !== undefined && { migrate_to_chat_id: failure.migrateToChatId }),
  };
  return {
    ok: false,
    error_code: failure.status,
    description,
    ...(Object.keys(parameters).length > 0 && { parameters }),
  };
}
