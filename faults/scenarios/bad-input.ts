/**
 * Bad input from users: long messages of combining marks and emoji, RTL overrides, null bytes,
 * odd command suffixes, updates of every type Telegram sends (forced past allowed_updates, as
 * those queued before a change of it are delivered), and a burst of 1,000 messages from one
 * user, while twenty other users talk; their reply latency is compared with a run without it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../harness/redis.js';
import { atMost, type Context, info, type Row, type ScenarioResult, sleep } from '../lib/context.js';
import { type Exchange, exchange, REPLIES_YAML, requestsWith } from '../lib/conversation.js';
import { type Fakes, startFakes } from '../lib/fakes.js';
import { type FleetSpec, fleetEnv, fleetYaml, startFleet } from '../lib/fleet.js';
import { callCursor, waitForCall } from '../lib/polling.js';
import { keep, newApiKey, newToken } from '../lib/secrets.js';

const OTHERS = Array.from({ length: 20 }, (_, i) => 9201 + i);
const BURSTER = 9300;
const WEIRD = 9301;

const zalgo = (n: number): string =>
  Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 'a' : String.fromCharCode(0x300 + (i % 0x6f)))).join('');
const emoji = (n: number): string => '👨‍👩‍👧‍👦🏳️‍🌈🇺🇦'.repeat(Math.ceil(n / 20)).slice(0, n);

const TEXTS = [
  zalgo(4096),
  emoji(4096),
  `\u202Eevil\u202C ${'\u202D\u2066\u2067\u2068\u2069'.repeat(500)}`,
  'null\u0000byte\u0000\u0000',
  '\uFEFF\u200B\u200D',
  '\uD800 lone surrogate',
  '/start@someone_else_bot',
  '/reset@',
  '/help@bot7600001_bot extra words',
  '/RESET',
  '/start\u0000',
  '/new@bot7600001_bot@bot7600001_bot',
  `/${'x'.repeat(64)}`,
  '/',
  ' '.repeat(4096),
  'x'.repeat(4096),
];

function updatesOfEveryType(botId: number): Record<string, unknown>[] {
  const date = Math.floor(Date.now() / 1000);
  const from = { id: WEIRD, is_bot: false, first_name: 'W\u202E' };
  const chat = { id: WEIRD, type: 'private', first_name: 'W' };
  const group = { id: -1_009_301, type: 'supergroup', title: 'G', is_forum: true };
  const channel = { id: -1_009_302, type: 'channel', title: 'C' };
  const bot = { id: botId, is_bot: true, first_name: 'Bot', username: `bot${botId}_bot` };
  let id = 500_000;
  const msg = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    message_id: ++id,
    date,
    chat,
    from,
    ...extra,
  });
  const member = (status: string) => ({ user: bot, status, ...(status === 'kicked' && { until_date: 0 }) });
  return [
    { edited_message: msg({ text: 'edited', edit_date: date }) },
    { channel_post: { message_id: ++id, date, chat: channel, text: 'post' } },
    { edited_channel_post: { message_id: ++id, date, chat: channel, text: 'post2', edit_date: date } },
    {
      message_reaction: {
        chat,
        message_id: 1,
        user: from,
        date,
        old_reaction: [],
        new_reaction: [{ type: 'emoji', emoji: '👍' }],
      },
    },
    { message_reaction_count: { chat, message_id: 1, date, reactions: [] } },
    { callback_query: { id: 'cq1', from, chat_instance: 'ci', data: 'x\u0000', message: msg({ text: 'old' }) } },
    { callback_query: { id: 'cq2', from, chat_instance: 'ci' } },
    { inline_query: { id: 'iq', from, query: 'q', offset: '' } },
    { chosen_inline_result: { result_id: 'r', from, query: 'q' } },
    { my_chat_member: { chat, from, date, old_chat_member: member('member'), new_chat_member: member('kicked') } },
    {
      my_chat_member: {
        chat: group,
        from,
        date,
        old_chat_member: member('left'),
        new_chat_member: member('administrator'),
      },
    },
    { chat_member: { chat: group, from, date, old_chat_member: member('left'), new_chat_member: member('member') } },
    { chat_join_request: { chat: group, from, user_chat_id: WEIRD, date } },
    {
      poll: {
        id: 'p',
        question: 'q',
        options: [],
        total_voter_count: 0,
        is_closed: false,
        is_anonymous: true,
        type: 'regular',
        allows_multiple_answers: false,
      },
    },
    { poll_answer: { poll_id: 'p', user: from, option_ids: [0] } },
    { shipping_query: { id: 's', from, invoice_payload: 'p', shipping_address: {} } },
    { pre_checkout_query: { id: 'c', from, currency: 'USD', total_amount: 1, invoice_payload: 'p' } },
    { message: msg({ photo: [{ file_id: 'f', file_unique_id: 'u', width: 1, height: 1 }] }) },
    {
      message: msg({
        sticker: {
          file_id: 'f',
          file_unique_id: 'u',
          type: 'regular',
          width: 1,
          height: 1,
          is_animated: false,
          is_video: false,
        },
      }),
    },
    { message: msg({ voice: { file_id: 'f', file_unique_id: 'u', duration: 1 } }) },
    { message: msg({ chat: group, new_chat_members: [from] }) },
    { message: msg({ chat: group, left_chat_member: bot }) },
    { message: msg({ chat: group, migrate_to_chat_id: -1_009_999 }) },
    { message: msg({ text: '' }) },
    { message: msg() },
    { message: { message_id: ++id, date, chat } },
    { message: msg({ text: 'bad entities', entities: [{ type: 'bot_command', offset: 5, length: 100 }] }) },
    {
      message: msg({
        text: '/start',
        entities: [{ type: 'bot_command', offset: 0, length: 6 }],
        chat: group,
        message_thread_id: 5,
        is_topic_message: true,
      }),
    },
    { message: msg({ text: 'from a channel', sender_chat: channel, chat: group }) },
    { message: msg({ text: 'via bot', via_bot: bot }) },
    { message: msg({ text: 'from a bot', from: { id: 42, is_bot: true, first_name: 'B' } }) },
    { message: msg({ text: 'forwarded', forward_origin: { type: 'hidden_user', sender_user_name: 'x', date } }) },
    { business_message: msg({ text: 'biz' }) },
    { business_connection: { id: 'b', user: from, user_chat_id: WEIRD, date, can_reply: true, is_enabled: true } },
    {
      chat_boost: {
        chat: group,
        boost: { boost_id: 'b', add_date: date, expiration_date: date, source: { source: 'premium', user: from } },
      },
    },
    { some_future_update: { x: 1 } },
    { message: msg({ text: 'x'.repeat(10_000) }) },
    { message: msg({ text: 'ok', chat: { id: WEIRD, type: 'private' }, from: undefined }) },
  ];
}

/** Reply latencies of the other users, each sending `perUser` messages one at a time: from the
 * moment the fake Bot API queued a message (as Telegram has it) to the first message of its
 * answer reaching it, both on the fake's clock, so that the time the suite's own HTTP call took
 * to reach a busy fake (it takes in the burst's 1,000 messages in one go) is not counted. */
async function latencies(fakes: Fakes, token: string, round: number | string, perUser: number): Promise<number[]> {
  const all = await Promise.all(
    OTHERS.map(async (user) => {
      const out: Exchange[] = [];
      for (let n = 0; n < perUser; n++)
        out.push(await exchange(fakes, token, user, `L${round}-${user}-${n}Z`, { timeoutMs: 30_000, settleMs: 0 }));
      return out;
    }),
  );
  const exchanges = all.flat();
  const from = Math.min(...exchanges.map((ex) => ex.updateId));
  const { timings } = await fakes.telegram<{ timings: { updateId: number; queuedWallAt: number }[] }>(
    `/__fake/timings?token=${encodeURIComponent(token)}&from=${from}`,
  );
  const queuedAt = new Map(timings.map((t) => [t.updateId, t.queuedWallAt]));
  return exchanges.map((ex) =>
    ex.repliedAt === undefined ? Infinity : ex.repliedAt - (queuedAt.get(ex.updateId) ?? ex.sentAt),
  );
}

const p99 = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? NaN;
};

export async function badInput(ctx: Context): Promise<ScenarioResult> {
  const scenario = 'bad input from users';
  const perUser = ctx.quick ? 2 : 5;
  const burst = ctx.quick ? 300 : 1000;
  const rounds = ctx.quick ? 1 : 3;
  const fakes = await startFakes({ modelMs: 20 });
  const dir = await mkdtemp(join(tmpdir(), 'botfleet-faults-input-'));
  const token = newToken(7_600_001);
  await fakes.addBot(token);
  const serverPort = await freePort();
  const spec: FleetSpec = {
    storageUrl: 'sqlite://data/faults.sqlite',
    namespace: 'faults',
    apiRoot: fakes.apiRoot,
    baseUrl: fakes.baseUrl,
    apiKey: newApiKey(),
    bots: [{ id: 'i0', token }],
    users: [...OTHERS, BURSTER, WEIRD],
    serverPort,
    defaults: [REPLIES_YAML, `telegram: { apiRoot: "${fakes.apiRoot}" }`, 'groups: { reply: always }'],
  };
  await writeFile(join(dir, 'bots.yaml'), fleetYaml(spec));
  const since = await callCursor(fakes);
  const fleet = startFleet(dir, fleetEnv(spec), { label: scenario });
  let crashes = 0;
  try {
    await waitForCall(fakes, token, 'getUpdates', since);
    await latencies(fakes, token, 0, 1); // warm-up
    // Rounds of: the others talk on their own (normal), then again while a fresh burst from one
    // user is being dealt with; the latencies are pooled over the rounds (one burst's p99 is
    // about the second slowest of its 100 replies, so a single round is noisy).
    const normal: number[] = [];
    const loaded: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      normal.push(...(await latencies(fakes, token, `n${round}`, perUser)));
      const items = Array.from({ length: burst }, (_, n) => ({
        token,
        chatId: BURSTER,
        userId: BURSTER,
        text: `burst ${round}-${n}`,
      }));
      const flood = fakes.telegram('/__fake/sendTexts', { items });
      loaded.push(...(await latencies(fakes, token, `b${round}`, perUser)));
      await flood;
      await sleep(1000); // the burster's waiting messages are answered before the next round
    }
    // The rest of the bad input, then the others talk again while it is being dealt with.
    const odd = (async () => {
      for (const text of TEXTS) await fakes.say(token, WEIRD, text);
      for (const update of updatesOfEveryType(7_600_001))
        await fakes.telegram('/__fake/sendUpdate', { token, update, force: true });
      await fakes.say(token, 990_006, 'OUTSIDER among the bad input');
    })();
    const duringOdd = await latencies(fakes, token, 'odd', perUser);
    await odd;
    await sleep(2000);
    // Still answering afterwards?
    const after = await exchange(fakes, token, OTHERS[0] as number, 'still there?Z', { timeoutMs: 30_000 });
    // The ops server's bodies go into the secret scan.
    for (const path of ['/metrics', '/readyz', '/healthz']) {
      const res = await fetch(`http://127.0.0.1:${serverPort}${path}`);
      keep(`${scenario}: GET ${path} (${res.status})`, await res.text());
    }
    if (fleet.child.exitCode !== null) crashes++;
    const exit = await fleet.stop();
    if (exit.code !== 0) crashes++;
    const output = fleet.output();
    const errors = fleet.logs().filter((l) => Number(l.level) >= 50).length;
    const normalP99 = p99(normal);
    const loadedP99 = p99(loaded);
    const oddP99 = p99(duringOdd);
    const rows: Row[] = [
      atMost(scenario, 'process crashes', crashes, 0),
      info(scenario, 'error log lines (level ≥ 50) during the attack', String(errors)),
      info(
        scenario,
        `p99 reply latency of ${OTHERS.length} other chats: normal / during a burst of ${burst} from one user (${rounds === 1 ? 'one round' : `${rounds} rounds pooled`}, ${normal.length} replies each)`,
        `${normalP99.toFixed(0)} ms / ${loadedP99.toFixed(0)} ms`,
      ),
      ctx.quick
        ? info(
            scenario,
            'other chats’ p99 latency during the burst, as a multiple of normal (--quick: too few samples to judge)',
            `${(loadedP99 / normalP99).toFixed(2)}×`,
          )
        : atMost(
            scenario,
            'other chats’ p99 latency during the burst, as a multiple of normal',
            loadedP99 / normalP99,
            2,
            '×',
          ),
      info(
        scenario,
        'other chats’ p99 latency while the odd texts and updates are dealt with, as a multiple of normal',
        `${oddP99.toFixed(0)} ms, ${(oddP99 / normalP99).toFixed(2)}×`,
      ),
      info(scenario, 'another user’s message after the attack', after.outcome),
    ];
    if (errors > 0)
      ctx.progress(
        `${scenario}: error lines: ${fleet
          .logs()
          .filter((l) => Number(l.level) >= 50)
          .slice(0, 3)
          .map((l) => JSON.stringify(l).slice(0, 300))
          .join(' | ')}`,
      );
    void output;
    return {
      rows,
      notes: [
        `${scenario}: ${TEXTS.length} odd texts (4096 combining marks, 4096 emoji, RTL overrides, null bytes, lone surrogates, odd command suffixes…), ${updatesOfEveryType(7_600_001).length} updates of every type (forced past allowed_updates), ${burst} messages from one user at once (${rounds === 1 ? 'once' : `${rounds} times`}); ${OTHERS.length} other users sent ${perUser} messages each, one at a time, before and during each burst, then during the odd texts and updates (fake model 20 ms); a reply's latency runs from the fake Bot API queuing the message to the first message of the answer reaching it.`,
      ],
      outsiderModelCalls: requestsWith(await fakes.requests(), 'OUTSIDER'),
      crashes,
    };
  } finally {
    await fleet.stop();
    await fakes.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
