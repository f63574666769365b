/**
 * What each kind of message gets, over real HTTP: text reaches the model as written, service
 * messages get nothing, media gets the apology, and a storage problem around an answer is
 * told to the user (a turn that could not be stored, a history that could not be read).
 */
import { join } from 'node:path';
import { KeyvSqlite } from '@keyv/sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFleetHarness, type FleetHarness, transcript } from '../support/fleet-harness.js';
import { waitFor } from '../support/wait-for.js';

const TOKEN = '7201:kinds-token';
const GROUP = -1008888;

describe('message kinds', () => {
  let h: FleetHarness;
  beforeEach(async () => {
    h = await createFleetHarness();
  });
  afterEach(async () => h.close());

  it('gives the model the text exactly as written: newlines and indentation kept', async () => {
    await h.writeConfig([{ id: 'kinds', token: TOKEN }], { storageUrl: 'memory://' });
    await h.start();
    const code = 'Why does this fail?\n\n```\ndef f(x):\n    if x:\n        return  1\n```\n  - a\n  - b';
    h.telegram.sendText(TOKEN, { chatId: 1, userId: 1, text: code });
    await h.telegram.waitForSent(1, { token: TOKEN });
    expect(transcript(h.openai.lastRequest()?.body).at(-1)).toBe(`user: ${code}`);
    h.telegram.sendText(TOKEN, {
      chatId: GROUP,
      userId: 2,
      firstName: 'Ana',
      text: '@kinds_bot, look:\n    indented   twice\n\nthanks @kinds_bot',
    });
    await h.telegram.waitForSent(2, { token: TOKEN });
    expect(transcript(h.openai.lastRequest()?.body).at(-1)).toBe('user: Ana: look:\n    indented   twice\n\nthanks');
  });

  it('answers no service message, even with reply: always, and still apologises for media', async () => {
    await h.writeConfig([{ id: 'kinds', token: TOKEN, yaml: 'groups: { reply: always }' }], {
      storageUrl: 'memory://',
    });
    await h.start();
    const chat = { id: GROUP, type: 'supergroup', title: 'G' };
    const from = { id: 3, is_bot: false, first_name: 'Cy' };
    const services = [
      { new_chat_members: [{ id: 4, is_bot: false, first_name: 'Di' }] },
      { left_chat_member: { id: 4, is_bot: false, first_name: 'Di' } },
      { pinned_message: { message_id: 1, date: 0, chat } },
      { forum_topic_created: { name: 'T', icon_color: 1 } },
      { forum_topic_edited: { name: 'T2' } },
      { forum_topic_closed: {} },
      { migrate_from_chat_id: -4242 },
      { group_chat_created: true },
      { new_chat_title: 'G2' },
      { photo: [{ file_id: 'p', file_unique_id: 'p', width: 1, height: 1 }] },
      { voice: { file_id: 'v', file_unique_id: 'v', duration: 1 } },
    ];
    for (const [index, fields] of services.entries()) {
      h.telegram.sendUpdate(TOKEN, { message: { message_id: 500 + index, date: 0, chat, from, ...fields } } as never);
    }
    h.telegram.sendText(TOKEN, { chatId: GROUP, userId: 3, firstName: 'Cy', text: 'and a text' });
    await waitFor(() => h.telegram.sentMessages(TOKEN).some((m) => m.text === 'echo: Cy: and a text'), {
      what: 'echo: Cy: and a text',
    });
    expect(h.telegram.sentMessages(TOKEN, GROUP).map((m) => m.text)).toEqual([
      'Sorry, I can only read text messages for now.',
      'Sorry, I can only read text messages for now.',
      'echo: Cy: and a text',
    ]);
  });

  it('tells the user when the answered turn could not be stored', async () => {
    await h.writeConfig([{ id: 'kinds', token: TOKEN }]);
    await h.start();
    const lock = new KeyvSqlite({ uri: `sqlite://${join(h.dir, 'data', 'botfleet.sqlite')}`, busyTimeout: 5000 });
    try {
      // Another writer holds the database: reads go on (WAL), the append gives up as busy.
      await lock.query('BEGIN IMMEDIATE');
      h.telegram.sendText(TOKEN, { chatId: 5, userId: 5, text: 'remember me' });
      const sent = await h.telegram.waitForSent(2, { token: TOKEN, timeoutMs: 10_000 });
      expect(sent.map((m) => m.text)).toEqual([
        'echo: remember me',
        'I answered, but could not save this exchange, so I will not remember it. Repeat anything I should keep in mind.',
      ]);
    } finally {
      await lock.query('COMMIT');
      await lock.disconnect();
    }
    const failure = h.logs().find((line) => line.msg.includes('could not be stored'));
    expect(failure).toMatchObject({ bot: 'kinds', chat: 5 });
  });

  it('tells the user when the stored conversation could not be read, before answering', async () => {
    await h.writeConfig([{ id: 'kinds', token: TOKEN }]);
    await h.start();
    h.telegram.sendText(TOKEN, { chatId: 6, userId: 6, text: 'first' });
    await h.telegram.waitForSent(1, { token: TOKEN });
    // The reply goes out before its turn is stored: corrupt the value only once it is there.
    await waitFor(() => h.logs().some((line) => line.msg === 'turn stored'), { what: 'the first turn stored' });
    const db = new KeyvSqlite({ uri: `sqlite://${join(h.dir, 'data', 'botfleet.sqlite')}`, busyTimeout: 5000 });
    try {
      const [row] = (await db.query("SELECT key FROM keyv WHERE key LIKE '%:kinds:6'")) as { key: string }[];
      await db.query('UPDATE keyv SET value = ? WHERE key = ?', '{"v":1,"turns":[{"user":"cut', row?.key);
    } finally {
      await db.disconnect();
    }
    h.telegram.sendText(TOKEN, { chatId: 6, userId: 6, text: 'second' });
    const sent = await h.telegram.waitForSent(3, { token: TOKEN });
    expect(sent.map((m) => m.text)).toEqual([
      'echo: first',
      'Sorry, I could not read our earlier conversation, so I am starting again from a blank page.',
      'echo: second',
    ]);
    expect(transcript(h.openai.lastRequest()?.body).slice(1)).toEqual(['user: second']);
    const unreadable = h.logs().find((line) => line.msg.includes('could not be read'));
    expect(unreadable).toMatchObject({ bot: 'kinds', chat: 6 });
  });
});
