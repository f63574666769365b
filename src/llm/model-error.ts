/**
 * How a model call fails, as the rest of the app sees it. Free of the openai SDK, so code that
 * only needs to recognise a model failure (the answer, the terminal chat) can import it
 * without loading the SDK.
 */
import { AppError } from '../errors.js';

/** Why a model call failed: `auth` (401/403), `rate-limit` (429), `timeout`, `server` (5xx),
 * `network` (no connection), `bad-request` (other 4xx, e.g. unknown model), `malformed`
 * (the answer could not be parsed or held no reply), `aborted` (our own shutdown). */
export type ModelFailure =
  | 'auth'
  | 'rate-limit'
  | 'timeout'
  | 'server'
  | 'network'
  | 'bad-request'
  | 'malformed'
  | 'aborted';

/** A model call failed after the SDK's own retries. The message names the provider and never
 * holds the API key. */
export class ModelError extends AppError {
  readonly provider: string;
  readonly reason: ModelFailure;
  readonly status: number | undefined;

  constructor(
    provider: string,
    reason: ModelFailure,
    detail: string,
    options: { status?: number; cause?: unknown } = {},
  ) {
    super(
      'model',
      `provider ${provider}: ${reason}${options.status === undefined ? '' : ` (HTTP ${options.status})`}: ${detail}`,
      { cause: options.cause },
    );
    this.name = 'ModelError';
    this.provider = provider;
    this.reason = reason;
    this.status = options.status;
  }
}
