/**
 * Just enough Redis for the bench and the fault suite: commands over a raw socket (no client
 * library), and a private `redis-server` on a free port that a fault scenario stops and starts
 * (the shared one on 6379 is never stopped).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';

/** The shared Redis (never stopped), which the bench's storage scenarios use. */
export const SHARED_REDIS_PORT = 6379;
export const SHARED_REDIS_URL = `redis://127.0.0.1:${SHARED_REDIS_PORT}`;

type Reply = string | number | null | Reply[];

/** Parses one RESP reply from `buffer` at `offset`; undefined when incomplete. */

function parse(buffer: Buffer, offset: number): { value: Reply; end: number } | undefined {
  const lineEnd = buffer.indexOf('\r\n', offset);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buffer[offset] ?? 0);
  const head = buffer.toString('utf8', offset + 1, lineEnd);
  if (type === '+' || type === '-') return { value: type === '-' ? `ERR ${head}` : head, end: lineEnd + 2 };
  if (type === ':') return { value: Number(head), end: lineEnd + 2 };
  if (type === '$') {
    const length = Number(head);
    if (length < 0) return { value: null, end: lineEnd + 2 };
    const start = lineEnd + 2;
    if (buffer.length < start + length + 2) return undefined;
    return { value: buffer.toString('utf8', start, start + length), end: start + length + 2 };
  }
  if (type === '*') {
    const count = Number(head);
    if (count < 0) return { value: null, end: lineEnd + 2 };
    const items: Reply[] = [];
    let end = lineEnd + 2;
    for (let i = 0; i < count; i++) {
      const item = parse(buffer, end);
      if (item === undefined) return undefined;
      items.push(item.value);
      end = item.end;
    }
    return { value: items, end };
  }
  throw new Error(`redis: unexpected reply type ${type}`);
}

/** Sends one command and resolves with its reply. */
function command(socket: Socket, args: readonly string[]): Promise<Reply> {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffer = Buffer.concat([buffer, chunk]);
      const reply = parse(buffer, 0);
      if (reply === undefined) return;
      socket.off('data', onData);
      socket.off('error', reject);
      resolve(reply.value);
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  });
}

function connect(port: number, timeoutMs = 5000): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`redis: no answer within ${timeoutMs} ms`)));
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Every key matching `pattern` with its string value. */
export async function redisValues(port: number, pattern: string): Promise<Map<string, string>> {
  const socket = await connect(port);
  const values = new Map<string, string>();
  try {
    let cursor = '0';
    do {
      const reply = (await command(socket, ['SCAN', cursor, 'MATCH', pattern, 'COUNT', '1000'])) as [string, string[]];
      cursor = reply[0];
      for (const key of reply[1]) {
        const value = await command(socket, ['GET', key]);
        if (typeof value === 'string') values.set(key, value);
      }
    } while (cursor !== '0');
  } finally {
    socket.destroy();
  }
  return values;
}

/** Deletes every key matching `pattern` (SCAN + DEL); resolves with how many were deleted. */
export async function deleteKeys(port: number, pattern: string): Promise<number> {
  const socket = await connect(port, 10_000);
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const reply = (await command(socket, ['SCAN', cursor, 'MATCH', pattern, 'COUNT', '1000'])) as [string, string[]];
      cursor = reply[0];
      if (reply[1].length > 0) deleted += (await command(socket, ['DEL', ...reply[1]])) as number;
    } while (cursor !== '0');
  } finally {
    socket.destroy();
  }
  return deleted;
}

/** Writes `pairs` with one MSET (a run's own namespace: `deleteKeys` removes them). */
export async function setValues(port: number, pairs: readonly (readonly [string, string])[]): Promise<void> {
  const socket = await connect(port, 10_000);
  try {
    const reply = await command(socket, ['MSET', ...pairs.flat()]);
    if (reply !== 'OK') throw new Error(`redis: MSET answered ${String(reply)}`);
  } finally {
    socket.destroy();
  }
}

/** Whether Redis answers PING on `port`. */
export async function redisAnswers(port: number): Promise<boolean> {
  try {
    const socket = await connect(port, 1000);
    const reply = await command(socket, ['PING']);
    socket.destroy();
    return reply === 'PONG';
  } catch {
    // Not running, refused or silent: not answering is the answer.
    return false;
  }
}

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

/** A private redis-server the suite stops and starts; with `dir`, every write is in its
 * append-only file before Redis answers (appendfsync always), so a SIGKILL loses nothing it
 * acknowledged. */
export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  start(): Promise<void>;
  /** SIGKILL, resolves once it exited. */
  kill(): Promise<void>;
}

export async function privateRedis(dir?: string): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      const persistence =
        dir === undefined ? ['--appendonly', 'no'] : ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir];
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence], {
        stdio: 'ignore',
      });
      const deadline = Date.now() + 10_000;
      while (!(await redisAnswers(port))) {
        if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not start`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async kill() {
      const running = child;
      if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
      const exited = once(running, 'exit');
      running.kill('SIGKILL');
      await exited;
    },
  };
}
