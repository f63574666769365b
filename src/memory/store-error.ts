/**
 * The memory engine's error: which backend, which operation, and whether trying again later
 * can help; plus the deadline every storage call runs under, and short descriptions of driver
 * errors. Messages name the storage URL only with its password masked.
 */
import { AppError } from '../errors.js';
import { maskSecretIn } from '../mask.js';

/** The storage backends botfleet can open, by URL scheme. */
export type StoreBackend = 'sqlite' | 'redis' | 'memory';

/** What the store was doing when it failed. */
export type StoreOperation =
  | 'open'
  | 'load'
  | 'append'
  | 'answered'
  | 'reset'
  | 'summary'
  | 'refusal'
  | 'ping'
  | 'journal';

/** The memory engine failed. `retryable`: the backend was unreachable, slow or busy, so the
 * same call may succeed later (tell the user to retry); false: it will not (a closed store, a
 * bad URL, a permission problem). `url` is masked. */
export class StoreError extends AppError {
  readonly backend: StoreBackend | 'unknown';
  readonly operation: StoreOperation;
  readonly retryable: boolean;
  readonly url: string;

  constructor(
    fields: { backend: StoreBackend | 'unknown'; operation: StoreOperation; retryable: boolean; url: string },
    message: string,
    options?: { cause?: unknown },
  ) {
    super('storage', message, options);
    this.name = 'StoreError';
    this.backend = fields.backend;
    this.operation = fields.operation;
    this.retryable = fields.retryable;
    this.url = fields.url;
  }
}

/** Thrown by an operation that outlived its deadline; converted to a retryable StoreError. */
export class StoreTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = 'StoreTimeoutError';
  }
}

/** `promise`, or a StoreTimeoutError after `timeoutMs`. The timer never outlives the race. */
export async function withDeadline<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreTimeoutError(timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Errors that say "the server is not there right now", by Node error code or client error
 * class name (node-redis and node-sqlite3 both set these). */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
]);
const TRANSIENT_NAMES = new Set([
  'StoreTimeoutError',
  'ClientOfflineError',
  'SocketClosedUnexpectedlyError',
  'ConnectionTimeoutError',
  'SocketTimeoutError',
  'DisconnectsClientError',
]);

/** Whether `error` is a passing condition (unreachable, lost connection, timeout, busy). */
export function isTransient(thrown: unknown): boolean {
  const error = rootCause(thrown);
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
  if (TRANSIENT_NAMES.has(error.name) || TRANSIENT_NAMES.has(error.constructor.name)) return true;
  return /offline|socket closed|connection (?:is )?(?:closed|lost|timeout)/i.test(error.message);
}

/** A short, secret-free reason for `error`, e.g. "connection refused". `secret`, when given,
 * is masked wherever it appears in a message we pass through. */
export function describeCause(thrown: unknown, secret?: string): string {
  const error = rootCause(thrown);
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const known: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    ETIMEDOUT: 'connection timed out',
    EHOSTUNREACH: 'host unreachable',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host not found (DNS lookup failed)',
    EACCES: 'permission denied',
    SQLITE_CANTOPEN: 'cannot open the database file',
    SQLITE_BUSY: 'database is busy',
    SQLITE_READONLY: 'database is read-only',
  };
  if (typeof code === 'string' && known[code] !== undefined) return known[code];
  if (/WRONGPASS|NOAUTH|invalid password|invalid username-password/i.test(error.message))
    return 'authentication failed';
  const names: Record<string, string> = {
    ConnectionTimeoutError: 'connection timed out',
    ClientOfflineError: 'not connected; reconnecting',
    SocketClosedUnexpectedlyError: 'connection lost',
    ClientClosedError: 'the client is closed',
  };
  const byName = names[error.name] ?? names[error.constructor.name];
  if (byName !== undefined) return byName;
  const message = error.message === '' ? error.name : error.message;
  return maskSecretIn(message, secret);
}

/** The error that says what really happened: node-redis wraps the socket's error in a
 * ReconnectStrategyError, Node wraps per-address failures in an AggregateError. */
function rootCause(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const wrapped =
    (error as { socketError?: unknown; originalError?: unknown }).socketError ??
    (error as { originalError?: unknown }).originalError;
  if (wrapped instanceof Error && wrapped !== error) return rootCause(wrapped);
  if (
    error instanceof AggregateError &&
    error.errors[0] instanceof Error &&
    (error as { code?: unknown }).code === undefined
  )
    return rootCause(error.errors[0]);
  return error;
}
