/**
 * kill -9 under load: two bots answer a steady stream from many private chats; the fleet is
 * SIGKILLed at a random moment and started again at once, `trials` times, while the stream goes
 * on (the fake Bot API keeps every update a getUpdates offset has not confirmed, as Telegram
 * does for 24 h). Then the stream stops, every message gets time to be answered, the fleet is
 * stopped cleanly and the store is read directly.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteKeys } from '../../harness/redis.js';
import { atMost, type Context, info, type Row, type ScenarioResult, sleep, waitUntil } from '../lib/context.js';
import { echo, REPLIES, REPLIES_YAML, requestsWith } from '../lib/conversation.js';
import { type Sent, startFakes } from '../lib/fakes.js';
import { crashed, type FleetSpec, fleetEnv, fleetYaml, startFleet } from '../lib/fleet.js';
import { callCursor, waitForCall } from '../lib/polling.js';
import { newApiKey, newToken } from '../lib/secrets.js';
import { readRedis, readSqlite, type StoreContents } from '../lib/store.js';

const CHATS_PER_BOT = 8;

/** Why a crash may bring more than one duplicate over all conversations (see DUPLICATE_WINDOW). */
const PER_CONVERSATION = 'one per conversation whose reply was under way at the kill, see notes';

/** Where a duplicate reply can come from. */
const DUPLICATE_WINDOW =
  'The one window that allows a duplicate reply: a kill after an answer was delivered to Telegram and before the store recorded it (see the README, "answered at most once"). The window is per conversation: each conversation whose reply had reached Telegram but whose turn was not stored yet at the kill gets one duplicate after the restart, so a crash during a burst (16 chats answered at once after a restart) may bring several, one per conversation; no conversation ever got two. The goal "at most one duplicate per crash" is judged per conversation: the window cannot be closed (the Bot API has no way to ask whether a message arrived, nor an idempotency key, and recording the turn before Telegram has the reply turns each such duplicate into a message never answered), so one per crash over all conversations would take letting only one conversation at a time be between delivering its reply and storing it: every reply of the fleet would wait in line for a Telegram round trip and a store write, about 10 replies a second at most for the whole fleet. The count over all conversations is reported beside it.';
const OUTSIDER = 990_001;

/** Message texts are `Q<bot>-<chat>-<n>Z`; the fake model answers `echo: <text>`. */
const textOf = (bot: number, chat: number, n: number): string => `Q${bot}-${chat}-${n}Z`;

export async function killNine(ctx: Context, storage: 'sqlite' | 'redis'): Promise<ScenarioResult> {
  const scenario = `kill -9 under load (${storage === 'sqlite' ? 'SQLite' : 'Redis'})`;
  const trials = ctx.quick ? 2 : 50;
  const fakes = await startFakes({ modelMs: 30 });
  const dir = await mkdtemp(join(tmpdir(), 'botfleet-faults-kill-'));
  const namespace = `faults-kill-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const tokens = [newToken(7_100_001), newToken(7_100_002)];
  for (const token of tokens) await fakes.addBot(token);
  const users = Array.from({ length: CHATS_PER_BOT }, (_, i) => 5000 + i);
  const spec: FleetSpec = {
    storageUrl: storage === 'sqlite' ? 'sqlite://data/faults.sqlite' : 'redis://127.0.0.1:6379',
    namespace,
    apiRoot: fakes.apiRoot,
    baseUrl: fakes.baseUrl,
    apiKey: newApiKey(),
    bots: tokens.map((token, i) => ({ id: `k${i}`, token })),
    users,
    defaults: [REPLIES_YAML, `telegram: { apiRoot: "${fakes.apiRoot}" }`],
  };
  await writeFile(join(dir, 'bots.yaml'), fleetYaml(spec));
  const env = fleetEnv(spec);
  const sentTexts: { text: string; bot: number; chat: number; at: number }[] = [];
  const next = new Map<string, number>();
  let streaming = true;
  const stream = (async () => {
    // About 12 messages a second over 16 chats, whatever the fleet is doing.
    while (streaming) {
      const bot = Math.floor(Math.random() * tokens.length);
      const user = users[Math.floor(Math.random() * users.length)] as number;
      const key = `${bot}-${user}`;
      const n = (next.get(key) ?? 0) + 1;
      next.set(key, n);
      const text = textOf(bot, user, n);
      const at = Date.now();
      await fakes.say(tokens[bot] as string, user, text);
      sentTexts.push({ text, bot, chat: user, at });
      if (Math.random() < 0.02) await fakes.say(tokens[bot] as string, OUTSIDER, `OUTSIDER ${text}`);
      await sleep(80);
    }
  })();
  // Each crash as [SIGKILL sent, exit seen]: a reply the fake received in between may be the
  // dying process's last (the signal takes a moment to land), so a pair of replies is charged
  // to a crash when the first came before its exit was seen and the second after its SIGKILL.
  const kills: { at: number; dead: number }[] = [];
  let crashes = 0;
  try {
    for (let trial = 1; trial <= trials; trial++) {
      const since = await callCursor(fakes);
      const fleet = startFleet(dir, env, { label: `${scenario} trial ${trial}` });
      await Promise.all(tokens.map((t) => waitForCall(fakes, t, 'getUpdates', since)));
      await sleep(300 + Math.random() * 2000);
      if (fleet.child.exitCode !== null) crashes++;
      const at = Date.now();
      fleet.child.kill('SIGKILL');
      const exit = await fleet.exited;
      kills.push({ at, dead: Date.now() });
      if (crashed(exit)) crashes++;
      if (trial % 10 === 0 || ctx.quick) ctx.progress(`${scenario}: ${trial}/${trials} kills`);
    }
    const since = await callCursor(fakes);
    const fleet = startFleet(dir, env, { label: `${scenario} final run` });
    await Promise.all(tokens.map((t) => waitForCall(fakes, t, 'getUpdates', since)));
    await sleep(ctx.quick ? 500 : 1000);
    streaming = false;
    await stream;
    const answeredAll = async (): Promise<boolean> => {
      const sent = (await Promise.all(tokens.map((t) => fakes.sent(t)))).flat();
      const texts = new Set(sent.map((m) => m.text));
      return sentTexts.every((m) => texts.has(echo(m.text)));
    };
    // Every message answered, or no new answer for 8 s (what is still missing never will be).
    let lastCount = -1;
    let lastChange = Date.now();
    await waitUntil(
      async () => {
        if (await answeredAll()) return true;
        const count = (await Promise.all(tokens.map((t) => fakes.sent(t)))).flat().length;
        if (count !== lastCount) [lastCount, lastChange] = [count, Date.now()];
        return Date.now() - lastChange > (ctx.quick ? 4000 : 8000);
      },
      120_000,
      'every message to be answered',
    ).catch(() => undefined);
    const exit = await fleet.stop();
    if (exit.code !== 0) crashes++;

    const sent: Sent[] = (await Promise.all(tokens.map((t) => fakes.sent(t)))).flat();
    const replies = new Map<string, number[]>();
    for (const m of sent) {
      const list = replies.get(m.text) ?? [];
      list.push(m.wallAt);
      replies.set(m.text, list);
    }
    // A message not answered because its conversation's waiting list was full was turned away on
    // purpose (replies.busy: "send it again"), the note sent once per run of them, after it.
    const busyNotes = sent.filter((m) => m.text === REPLIES.busy);
    const toldBusy = (m: (typeof sentTexts)[number]): boolean =>
      busyNotes.some((n) => n.token === tokens[m.bot] && n.chatId === m.chat && n.wallAt >= m.at);
    const notAnswered = sentTexts.filter((m) => !replies.has(echo(m.text)));
    const turnedAway = notAnswered.filter(toldBusy).length;
    const unanswered = notAnswered.length - turnedAway;
    // A second answer to one message is charged to the crash between its first and second.
    const perCrash = kills.map(() => 0);
    // Per crash, per conversation (`<bot>-<chat>` of the message's text).
    const perConversation = kills.map(() => new Map<string, number>());
    let withoutCrash = 0;
    for (const [text, times] of replies) {
      if (!text.startsWith('echo: Q') || times.length < 2) continue;
      const conversation = /^echo: Q(\d+-\d+)-/.exec(text)?.[1] ?? text;
      times.sort((a, b) => a - b);
      for (let i = 1; i < times.length; i++) {
        const crash = kills.findIndex((k) => (times[i - 1] as number) <= k.dead && k.at <= (times[i] as number));
        if (crash < 0) {
          withoutCrash++;
          continue;
        }
        perCrash[crash] = (perCrash[crash] ?? 0) + 1;
        const counts = perConversation[crash] as Map<string, number>;
        counts.set(conversation, (counts.get(conversation) ?? 0) + 1);
      }
    }
    const maxPerConversation = Math.max(0, ...perConversation.flatMap((counts) => [...counts.values()]));
    if (process.env.FAULTS_KEEP !== undefined) {
      // For a person chasing a miss: which messages, and where their replies fell among the kills.
      const around = (t: number) => {
        const i = kills.findIndex((k) => t < k.at);
        return i < 0 ? `after the last kill` : `before kill ${i + 1} by ${(kills[i]?.at ?? t) - t} ms`;
      };
      const twice = [...replies].filter(([text, times]) => text.startsWith('echo: Q') && times.length > 1);
      const lines = [
        ...twice.map(([text, times]) => `twice ${text}: ${times.map(around).join(' | ')}`),
        ...sentTexts.filter((m) => !replies.has(echo(m.text))).map((m) => `never ${m.text}`),
        ...kills.map((k, i) => `kill ${i + 1}: at ${k.at}, exit seen ${k.dead - k.at} ms later`),
      ];
      await writeFile(join(dir, 'misses.txt'), `${lines.join('\n')}\n`);
    }
    const contents: StoreContents =
      storage === 'sqlite'
        ? readSqlite(join(dir, 'data', 'faults.sqlite'), namespace)
        : await readRedis(6379, namespace);
    const corrupted =
      contents.conversations.filter((c) => c.corrupt !== undefined).length +
      contents.corruptKeys.length +
      (contents.integrity === 'ok' ? 0 : 1);
    let halfTurns = 0;
    let outOfOrder = 0;
    let storedTwice = 0;
    for (const c of contents.conversations) {
      const seen = new Set<string>();
      let last = 0;
      for (const turn of c.turns ?? []) {
        if (turn.assistant !== echo(turn.user) || turn.user === '') halfTurns++;
        if (seen.has(turn.user)) storedTwice++;
        seen.add(turn.user);
        const n = Number(/-(\d+)Z$/.exec(turn.user)?.[1] ?? 0);
        if (n < last) outOfOrder++;
        last = n;
      }
    }
    const storedTurns = contents.conversations.reduce((n, c) => n + (c.turns?.length ?? 0), 0);
    const answeredTexts = new Set(sentTexts.filter((m) => replies.has(echo(m.text))).map((m) => m.text));
    const storedTexts = new Set(contents.conversations.flatMap((c) => (c.turns ?? []).map((t) => t.user)));
    const answeredNotStored = [...answeredTexts].filter((t) => !storedTexts.has(t)).length;
    const requests = await fakes.requests();
    const rows: Row[] = [
      info(scenario, 'crashes (SIGKILL), messages sent', `${kills.length}, ${sentTexts.length}`),
      atMost(scenario, 'corrupted histories (unreadable values, kept-aside keys, integrity check)', corrupted, 0),
      atMost(scenario, 'half turns stored', halfTurns, 0),
      atMost(scenario, 'turns stored twice or out of order', storedTwice + outOfOrder, 0),
      atMost(scenario, 'messages never answered after the restart (nor turned away as busy)', unanswered, 0),
      info(
        scenario,
        'messages turned away as busy, the user told to send them again (replies.busy)',
        String(turnedAway),
      ),
      atMost(scenario, 'duplicate replies per crash, in any one conversation (max)', maxPerConversation, 1),
      info(
        scenario,
        `duplicate replies per crash, over all conversations (max; ${PER_CONVERSATION})`,
        String(Math.max(0, ...perCrash)),
      ),
      info(
        scenario,
        'duplicate replies in all (crashes with one)',
        `${perCrash.reduce((a, b) => a + b, 0)} (${perCrash.filter((n) => n > 0).length} of ${kills.length})`,
      ),
      atMost(scenario, 'duplicate replies without a crash between them', withoutCrash, 0),
      atMost(scenario, 'answered messages whose turn is not stored', answeredNotStored, 0),
      info(scenario, 'turns stored', String(storedTurns)),
      info(
        scenario,
        'other messages sent (busy notes, …)',
        String(sent.filter((m) => !m.text.startsWith('echo: ')).length),
      ),
      atMost(scenario, 'unplanned exits (not the SIGKILLs) and unclean final stops', crashes, 0),
    ];
    return {
      rows,
      notes: [
        ...(storage === 'sqlite'
          ? [
              "How a kill -9 loses nothing: the runner confirms an update to Telegram (the next getUpdates offset) as soon as it has fetched it, not once it is answered, so every store journals each fetched batch, before the next getUpdates confirms it, and the confirmed offset (src/memory/update-journal.ts, src/replica-handover.ts); a restart replays the journal, skipping what the answered marks cover. Each journal write removes the updates the bot has finished since the last, so its 1000 places hold updates still to be handled. The first journal took the messages never answered after a restart from 1002 (SQLite) and 1785 (Redis) to 8 and 2; awaiting the journal write before the next getUpdates, then removing finished updates from it, took them to 0. On Redis a restart first waits up to 6 s for the killed process's leases to expire, so a chat's backlog may pass `telegram.maxWaitingPerConversation`: those few messages are turned away as busy, the user told to send them again (counted apart).",
            ]
          : []),
        ...(storage === 'sqlite' ? [DUPLICATE_WINDOW] : []),
        `${scenario}: ${kills.length} SIGKILLs, each 0.3–2.3 s after both bots polled, while about 12 messages a second arrived from ${CHATS_PER_BOT * tokens.length} chats (fake model: 30 ms); the fleet restarted at once each time, in the same folder.`,
      ],
      outsiderModelCalls: requestsWith(requests, 'OUTSIDER'),
      crashes,
    };
  } finally {
    streaming = false;
    await stream.catch(() => undefined);
    await fakes.stop();
    if (storage === 'redis') await deleteKeys(6379, `${namespace}:*`).catch(() => undefined);
    if (process.env.FAULTS_KEEP === undefined) await rm(dir, { recursive: true, force: true });
    else ctx.progress(`kept ${dir}`);
  }
}
