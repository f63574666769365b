/**
 * lightFetch (the openai SDK's fetch) against a real local server: an answer fetch cannot turn
 * into a Response fails the call like fetch's own failures, and never escapes as an uncaught
 * exception that would end the whole process.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { lightFetch, lightFetchBuffered } from '../../src/llm/light-fetch.js';

describe('lightFetch', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  const serve = async (status: number, body: string): Promise<string> => {
    server = createServer((_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body);
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`;
  };

  it('rejects an HTTP status outside 200-599 as "fetch failed", naming the status', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown): void => {
      uncaught.push(error);
    };
    process.on('uncaughtException', onUncaught);
    try {
      const url = await serve(600, '{}');
      const error = await lightFetch(url, { method: 'POST', body: '{}' }).then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(TypeError);
      expect((error as TypeError).message).toBe('fetch failed');
      expect(String((error as TypeError).cause)).toContain('HTTP status 600');
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('answers a JSON body with its status and text', async () => {
    const url = await serve(429, '{"error":{"message":"slow down"}}');
    const response = await lightFetch(url, { method: 'POST', body: '{}' });
    expect(response.status).toBe(429);
    expect(await response.json()).toEqual({ error: { message: 'slow down' } });
  });

  it('sends a Node stream body (grammY uploads) and answers without Response (lightFetchBuffered)', async () => {
    let received = '';
    server = createServer((req, res) => {
      req.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
      req.once('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: true, result: received.length }));
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bot1:x/sendDocument`;
    const response = await lightFetchBuffered(url, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=x' },
      body: Readable.from(['part one, ', 'part two']) as unknown as NonNullable<RequestInit['body']>,
    });
    expect(response).not.toBeInstanceOf(Response);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, result: 18 });
    expect(received).toBe('part one, part two');
  });
});
