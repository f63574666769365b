/**
 * grammY's Bot API client after telegram/grammy-fetch.ts, in a process of its own (the module
 * must run before grammY loads, which a test file sharing vitest's module graph cannot
 * promise): grammY loads no node-fetch (nor whatwg-url, tr46), its calls go through
 * light-fetch.ts on one keep-alive connection, an aborted long poll ends its request, and a
 * refused connection carries the system error code network-retry.ts reads.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const GRAMMY_FETCH = new URL('../../dist/telegram/grammy-fetch.js', import.meta.url).href;

/** What the child reports. */
interface Report {
  readonly usesLightFetch: boolean;
  readonly nodeFetchParts: string[];
  readonly names: string[];
  readonly poll: string;
  readonly refusedCode: unknown;
}

const CHILD = `
const { grammyUsesLightFetch } = await import(process.env.GRAMMY_FETCH);
const { Bot } = await import('grammy');
const { createRequire } = await import('node:module');
const require = createRequire(process.cwd() + '/package.json');
const bot = new Bot('123:abc', { client: { apiRoot: process.env.API_ROOT } });
const names = [];
for (let i = 0; i < 3; i++) names.push((await bot.api.getMe()).username);
const stop = new AbortController();
const polling = bot.api.getUpdates({ timeout: 30 }, stop.signal).then(() => 'answered', (e) => e.constructor.name);
setTimeout(() => stop.abort(), 50);
const poll = await polling;
const refused = new Bot('123:abc', { client: { apiRoot: 'http://127.0.0.1:1' } });
const refusedCode = await refused.api.getMe().then(() => null, (e) => e.error?.code);
const nodeFetchParts = Object.keys(require.cache).filter((p) => /whatwg-url|tr46|event-target-shim|iconv-lite/.test(p));
console.log(JSON.stringify({ usesLightFetch: grammyUsesLightFetch(), nodeFetchParts, names, poll, refusedCode }));
`;

describe('grammY with the light fetch', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  it('loads no node-fetch, calls over one keep-alive connection, aborts a long poll', async () => {
    let connections = 0;
    let pollClosed = false;
    server = createServer((req, res) => {
      if (req.url?.endsWith('/getUpdates')) {
        // A long poll that never answers: only the client's abort ends it.
        req.resume();
        res.once('close', () => (pollClosed = true));
        return;
      }
      req.resume().once('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: true, result: { id: 123, is_bot: true, first_name: 'T', username: 't_bot' } }));
      });
    });
    server.on('connection', () => (connections += 1));
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const apiRoot = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ['--input-type=module', '-e', CHILD],
        { cwd: REPO, env: { PATH: process.env.PATH ?? '', API_ROOT: apiRoot, GRAMMY_FETCH } },
        (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out)),
      ),
    );
    const report = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Report;
    expect(report.usesLightFetch).toBe(true);
    expect(report.nodeFetchParts).toEqual([]);
    expect(report.names).toEqual(['t_bot', 't_bot', 't_bot']);
    // Three getMe, one after the other, then the long poll: all on one reused socket.
    expect(connections).toBe(1);
    expect(report.poll).toBe('HttpError');
    expect(pollClosed).toBe(true);
    expect(report.refusedCode).toBe('ECONNREFUSED');
  });
});
