/**
 * Talking to the fakes when they run in a child process: their control API over HTTP, and
 * the one JSON line with their addresses that serve.ts prints when it is up. Shared by
 * spawn-fakes.ts (tests) and bench/lib/fakes.ts (the benchmark).
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** POSTs `body` (or GETs, without one) to the fake's control `path`; throws on an error status. */
export async function control<T>(root: string, path: string, body: unknown): Promise<T> {
  const init: RequestInit =
    body === undefined
      ? {}
      : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  const res = await fetch(`${root}${path}`, init);
  const json = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(`fake control ${path} answered ${res.status}: ${json.error ?? 'no reason given'}`);
  return json;
}

/** The first line `child` prints on stdout; rejects when it exits first or after `timeoutMs`. */
export function firstLine(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const timer = setTimeout(
      () => reject(new Error(`fakes did not start within ${timeoutMs} ms: ${stderr}`)),
      timeoutMs,
    );
    lines.once('line', (line) => {
      clearTimeout(timer);
      lines.close();
      resolve(line);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`fakes exited with ${code} before starting: ${stderr}`));
    });
  });
}
