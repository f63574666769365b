/**
 * `botfleet health`: asks a running fleet's /readyz and says in one line whether it is ready.
 * What the image's HEALTHCHECK runs (the image has no curl).
 */
import type { ServerConfig } from '../config/types.js';
import { HEALTH_CHECK_TIMEOUT_MS } from '../defaults.js';
import { errorMessage } from '../errors.js';
import { notReadyReason, type Readiness } from './readiness.js';

/** The answer: `ok` when /readyz said ready; `line` says why not, or that it is ready. */
export interface HealthResult {
  readonly ok: boolean;
  readonly line: string;
}

/** Where a fleet configured with `server` answers: its host, or 127.0.0.1 when it listens on
 * every interface. Undefined when the server is off or its port is picked at start (0). */
export function healthUrlOf(server: ServerConfig | undefined): string | undefined {
  if (server === undefined || server.port === 0) return undefined;
  const host = server.host === '0.0.0.0' || server.host === '::' ? '127.0.0.1' : server.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${server.port}`;
}

/** GETs `baseUrl`/readyz within `timeoutMs` (default HEALTH_CHECK_TIMEOUT_MS). Never throws. */
export async function checkHealth(baseUrl: string, timeoutMs = HEALTH_CHECK_TIMEOUT_MS): Promise<HealthResult> {
  const url = `${baseUrl.replace(/\/+$/, '')}/readyz`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    // Converted: no answer is the most common "unhealthy", said in one line.
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return { ok: false, line: `no answer from ${url} (${cause ?? errorMessage(error)})` };
  }
  let body: Readiness;
  try {
    body = (await response.json()) as Readiness;
  } catch (error) {
    // Converted: something else answers on that port.
    return {
      ok: false,
      line: `${url} answered HTTP ${response.status} without readiness JSON (${errorMessage(error)})`,
    };
  }
  if (response.ok && body.ready) {
    const bots = Object.values(body.bots);
    const standby = bots.filter((bot) => bot.state === 'standby').length;
    const polling = `${bots.length - standby} bot(s) polling${standby > 0 ? `, ${standby} held by other replicas` : ''}`;
    return { ok: true, line: `ready: ${polling}, storage ok` };
  }
  return { ok: false, line: notReadyReason(body) };
}
