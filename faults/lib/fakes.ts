/**
 * The fake Bot API and fake OpenAI server in a process of their own (test/fakes/serve.ts), driven
 * over their `/__fake/` control APIs, so a fleet under attack never shares their event loop.
 */
import { spawn } from 'node:child_process';
import { control, firstLine } from '../../test/fakes/child-fakes.js';
import { FAKES_ENTRY } from './paths.js';

/** A message the fake Bot API recorded as sent (sendMessage), as its control API returns it. */
export interface Sent {
  readonly seq: number;
  readonly token: string;
  readonly chatId: number;
  readonly messageId: number;
  readonly text: string;
  readonly replyToMessageId?: number;
  readonly at: number;
  readonly wallAt: number;
}

/** A recorded Bot API call (the fields the suite reads). */
export interface Call {
  readonly seq: number;
  readonly token: string;
  readonly method: string;
  readonly params: Record<string, unknown>;
  readonly at: number;
  readonly wallAt: number;
  readonly outcome?: { readonly status: number; readonly answeredAt: number; readonly response?: unknown };
}

/** A recorded model request (the fields the suite reads). */
export interface ModelRequest {
  readonly seq: number;
  readonly at: number;
  readonly wallAt: number;
  readonly path: string;
  readonly body?: { readonly messages?: readonly { role: string; content: unknown }[] };
  readonly outcome?: { readonly status: number; readonly kind: string; readonly endedAt: number };
}

/** The running fakes. */
export interface Fakes {
  readonly apiRoot: string;
  readonly baseUrl: string;
  telegram<T = Record<string, unknown>>(path: string, body?: unknown): Promise<T>;
  openai<T = Record<string, unknown>>(path: string, body?: unknown): Promise<T>;
  addBot(token: string): Promise<void>;
  /** Every message sent so far by `token`. */
  sent(token: string): Promise<Sent[]>;
  /** Every Bot API call of `token` (and `method`) recorded so far. */
  calls(token: string, method?: string): Promise<Call[]>;
  /** Every model request recorded so far. */
  requests(): Promise<ModelRequest[]>;
  /** Queues a user's private text message; resolves with its update id. */
  say(token: string, userId: number, text: string, extra?: Record<string, unknown>): Promise<number>;
  stop(): Promise<void>;
}

/** Starts both fakes; `modelMs` is the model's fixed latency. */
export async function startFakes(options: { modelMs?: number; maxPollSeconds?: number } = {}): Promise<Fakes> {
  const args = [
    FAKES_ENTRY,
    '--openai-latency-ms',
    String(options.modelMs ?? 0),
    ...(options.maxPollSeconds === undefined ? [] : ['--max-poll-seconds', String(options.maxPollSeconds)]),
  ];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let info: { telegram: { apiRoot: string }; openai: { baseUrl: string } };
  try {
    info = JSON.parse(await firstLine(child, 10_000)) as typeof info;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const tg = info.telegram.apiRoot;
  const oa = info.openai.baseUrl.replace(/\/v1$/, '');
  const fakes: Fakes = {
    apiRoot: tg,
    baseUrl: info.openai.baseUrl,
    telegram: (path, body) => control(tg, path, body),
    openai: (path, body) => control(oa, path, body),
    async addBot(token) {
      await control(tg, '/__fake/bots', { token });
    },
    async sent(token) {
      const { messages } = await control<{ messages: Sent[] }>(
        tg,
        `/__fake/sent?token=${encodeURIComponent(token)}`,
        undefined,
      );
      return messages;
    },
    async calls(token, method) {
      const q = `token=${encodeURIComponent(token)}${method === undefined ? '' : `&method=${method}`}`;
      const { calls } = await control<{ calls: Call[] }>(tg, `/__fake/calls?${q}`, undefined);
      return calls;
    },
    async requests() {
      const { requests } = await control<{ requests: ModelRequest[] }>(oa, '/__fake/requests', undefined);
      return requests;
    },
    async say(token, userId, text, extra = {}) {
      const { update_id } = await control<{ update_id: number }>(tg, '/__fake/sendText', {
        token,
        chatId: userId,
        userId,
        text,
        ...extra,
      });
      return update_id;
    },
    async stop() {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
  return fakes;
}
