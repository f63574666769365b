/** Just enough of the Redis protocol to check the shared server is there and to delete a run's
 * keys afterwards, without a client library. */
import { createConnection, type Socket } from 'node:net';

/** The shared Redis the storage scenarios use. */
export const REDIS_URL = 'redis://127.0.0.1:6379';

type Reply = string | number | null | Reply[];

/** Parses one RESP reply from `buffer` at `offset`; undefined when incomplete. */
function parse(buffer: string, offset: number): { value: Reply; end: number } | undefined {
  const lineEnd = buffer.indexOf('\r\n', offset);
  if (lineEnd < 0) return undefined;
  const type = buffer[offset];
  const head = buffer.slice(offset + 1, lineEnd);
  if (type === '+' || type === '-') return { value: type === '-' ? `ERR ${head}` : head, end: lineEnd + 2 };
  if (type === ':') return { value: Number(head), end: lineEnd + 2 };
  if (type === '$') {
    const length = Number(head);
    if (length < 0) return { value: null, end: lineEnd + 2 };
    const start = lineEnd + 2;
    // Byte lengths equal character lengths for the ASCII keys this harness writes.
    if (buffer.length < start + length + 2) return undefined;
    return { value: buffer.slice(start, start + length), end: start + length + 2 };
  }
  if (type === '*') {
    const count = Number(head);
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
    let buffer = '';
    const onData = (chunk: Buffer): void => {
      buffer += chunk.toString('latin1');
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

function connect(timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port: 6379 });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`redis: no answer within ${timeoutMs} ms`)));
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Whether the shared Redis answers PING. */
export async function redisAvailable(): Promise<boolean> {
  try {
    const socket = await connect(1000);
    const reply = await command(socket, ['PING']);
    socket.destroy();
    return reply === 'PONG';
  } catch {
    // Not running, refused or silent: the Redis variants are reported as not run.
    return false;
  }
}

/** Deletes every key matching `pattern` (SCAN + DEL); resolves with how many were deleted. */
export async function deleteRedisKeys(pattern: string): Promise<number> {
  const socket = await connect(10_000);
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

/** Writes `pairs` with one MSET (the run's own namespace: `deleteRedisKeys` removes them). */
export async function setRedisValues(pairs: readonly (readonly [string, string])[]): Promise<void> {
  const socket = await connect(10_000);
  try {
    const reply = await command(socket, ['MSET', ...pairs.flat()]);
    if (reply !== 'OK') throw new Error(`redis: MSET answered ${String(reply)}`);
  } finally {
    socket.destroy();
  }
}
