/**
 * The operators' HTTP server (node:http, three routes): GET /healthz answers 200 while the
 * process serves; GET /readyz 200 or 503 with the readiness JSON (readiness.ts); GET /metrics
 * the Prometheus text of a registry. Nothing here reads a message, a token or a key.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { AppError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Readiness } from './readiness.js';

/** What the server serves. */
export interface OpsServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly registry: Registry;
  readonly readiness: () => Promise<Readiness>;
  readonly logger: Logger;
}

/** A listening server. */
export interface OpsServerHandle {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  /** Stops listening and ends open connections (a scraper's keep-alive); never rejects. */
  close(): Promise<void>;
}

/** Listens on `host:port`. Throws AppError('config') naming the address when it cannot (in
 * use, not an address of this machine). */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServerHandle> {
  const { host, port, logger } = options;
  const server = createServer((request, response) => {
    route(request, response, options).catch((error: unknown) => {
      // Handled: one failed scrape must not stop the server; the operator sees it logged.
      logger.error({ path: request.url, err: errorMessage(error) }, 'the ops server could not answer');
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
  await listen(server, host, port);
  const bound = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
  logger.info({ url }, 'ops server listening: /healthz, /readyz, /metrics');
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE' ? 'the port is in use' : errorMessage(error);
      reject(
        new AppError('config', `server: cannot listen on ${host}:${port} (${why}); change server.port or server.host`, {
          cause: error,
        }),
      );
    });
    server.listen(port, host, () => resolve());
  });
}

async function route(request: IncomingMessage, response: ServerResponse, options: OpsServerOptions): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://ops').pathname;
  if (request.method !== 'GET' && request.method !== 'HEAD') return reply(response, 405, 'text/plain', 'GET only\n');
  if (path === '/healthz') return reply(response, 200, 'application/json', '{"status":"ok"}\n');
  if (path === '/readyz') {
    const readiness = await options.readiness();
    return reply(response, readiness.ready ? 200 : 503, 'application/json', `${JSON.stringify(readiness)}\n`);
  }
  if (path === '/metrics') {
    return reply(response, 200, options.registry.contentType, await options.registry.metrics());
  }
  reply(response, 404, 'text/plain', 'not found: the routes are /healthz, /readyz and /metrics\n');
}

function reply(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  response.end(body);
}
