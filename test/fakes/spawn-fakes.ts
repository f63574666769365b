/**
 * Runs `serve.ts` (both fakes) in a child process, for benchmarks and process tests. Node 20
 * cannot run TypeScript, so the fakes' sources are transpiled (types erased, nothing checked)
 * into a temporary directory first; they import only node: built-ins and each other.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { control, firstLine } from './child-fakes.js';

/** Where the fakes' sources live. */
const FAKES_DIR = fileURLToPath(new URL('.', import.meta.url));

/** What `spawnFakes` started. */
export interface SpawnedFakes {
  /** The fake Bot API's root, for `telegram.apiRoot`. */
  readonly apiRoot: string;
  /** The fake OpenAI base URL (ends in /v1), for `providers.*.baseUrl`. */
  readonly baseUrl: string;
  /** `performance.timeOrigin` of the child: epoch ms = `timeOrigin + at` of its records. */
  readonly timeOrigin: number;
  readonly pid: number;
  /** Calls the fake Bot API's control route (`/__fake/…`): GET without `body`, POST with it.
   * Throws with the server's `error` on a non-2xx answer. */
  telegram<T = Record<string, unknown>>(path: string, body?: unknown): Promise<T>;
  /** Same for the fake OpenAI server's control routes. */
  openai<T = Record<string, unknown>>(path: string, body?: unknown): Promise<T>;
  /** Sends SIGTERM, waits for exit (SIGKILL after 5 s) and removes the transpiled files;
   * resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Transpiles the fakes (not the tests) into a fresh temporary ESM directory; returns it. */
export async function transpileFakes(): Promise<string> {
  const outDir = await mkdtemp(join(tmpdir(), 'botfleet-fakes-'));
  await writeFile(join(outDir, 'package.json'), '{"type":"module"}\n');
  const files = (await readdir(FAKES_DIR)).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  for (const file of files) {
    const source = await readFile(join(FAKES_DIR, file), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
      fileName: file,
    });
    await writeFile(join(outDir, file.replace(/\.ts$/, '.js')), outputText);
  }
  return outDir;
}

/** Starts both fakes in a child process (`args` are serve.ts flags); rejects when they do not
 * print their addresses within 10 s. */
export async function spawnFakes(args: readonly string[] = []): Promise<SpawnedFakes> {
  const outDir = await transpileFakes();
  const child = spawn(process.execPath, [join(outDir, 'serve.js'), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let info: { telegram: { apiRoot: string; timeOrigin: number }; openai: { baseUrl: string }; pid: number };
  try {
    info = JSON.parse(await firstLine(child, 10_000)) as typeof info;
  } catch (error) {
    // Startup failed: do not leave the child or the temp dir behind, then report.
    child.kill('SIGKILL');
    await rm(outDir, { recursive: true, force: true });
    throw error;
  }
  const openaiRoot = info.openai.baseUrl.replace(/\/v1$/, '');
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    apiRoot: info.telegram.apiRoot,
    baseUrl: info.openai.baseUrl,
    timeOrigin: info.telegram.timeOrigin,
    pid: info.pid,
    telegram: (path, body) => control(info.telegram.apiRoot, path, body),
    openai: (path, body) => control(openaiRoot, path, body),
    async stop() {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(killer);
      await rm(outDir, { recursive: true, force: true });
      return code;
    },
  };
}
