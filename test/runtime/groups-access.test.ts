/** Group rules (mention, reply, commands, per-chat or per-user memory, topics) and access. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFleetHarness, type FleetHarness, transcript } from '../support/fleet-harness.js';
import { waitFor } from '../support/wait-for.js';

const TOKEN = '6001:group-token';
const GROUP = -100555;

describe('groups and access', () => {
  let h: FleetHarness;
  beforeEach(async () => {
    h = await createFleetHarness();
  });
  afterEach(async () => h.close());

  const start = async (yaml: string) => {
    await h.writeConfig([{ id: 'grp', token: TOKEN, yaml }], { storageUrl: 'memory://' });
    await h.start();
  };

  it('refuses users outside access once, with their id, and sends nothing to the model', async () => {
    await start('access: { users: [10] }');
    h.telegram.sendText(TOKEN, { chatId: 11, userId: 11, text: 'let me in' });
    const [refusal] = await h.telegram.waitForSent(1, { token: TOKEN });
    expect(refusal?.text).toBe('Sorry, this bot is private. Your Telegram user id is 11.');
    h.telegram.sendText(TOKEN, { chatId: 10, userId: 10, text: 'hi, it is me' });
    const sent = await h.telegram.waitForSent(2, { token: TOKEN });
    expect(sent[1]?.text).toBe('echo: hi, it is me');
    expect(h.openai.requests()).toHaveLength(1);
    expect(h.telegram.sentMessages(TOKEN, 11)).toHaveLength(1);
  });

  it('refuses a burst from a user outside access once, never answering it busy', async () => {
    await start('access: { users: [10] }\ntelegram: { maxWaitingPerConversation: 2 }');
    for (let i = 0; i < 20; i += 1) h.telegram.sendText(TOKEN, { chatId: 11, userId: 11, text: `forwarded ${i}` });
    h.telegram.sendText(TOKEN, { chatId: 10, userId: 10, text: 'after the burst' });
    await waitFor(() => h.telegram.sentMessages(TOKEN, 10).length === 1, { what: 'the answer after the burst' });
    await waitFor(() => h.logs().filter((l) => l.msg.includes('already refused')).length === 19, {
      what: 'the other 19 ignored',
    });
    expect(h.telegram.sentMessages(TOKEN, 11).map((m) => m.text)).toEqual([
      'Sorry, this bot is private. Your Telegram user id is 11.',
    ]);
  });

  it('lets everyone in an allowed group chat talk to it', async () => {
    await start('access: { users: [10], chats: [-100555] }\ngroups: { reply: always }');
    h.telegram.sendText(TOKEN, { chatId: GROUP, userId: 12, text: 'group hello' });
    h.telegram.sendText(TOKEN, { chatId: -100999, userId: 12, text: 'other group' });
    await h.telegram.waitForSent(2, { token: TOKEN });
    expect(h.telegram.sentMessages(TOKEN, GROUP)[0]?.text).toBe('echo: User 12: group hello');
    expect(h.telegram.sentMessages(TOKEN, -100999)[0]?.text).toMatch(/your telegram user id is 12/i);
  });

  it('in mention mode answers only @mentions, replies to it and its commands, as a reply', async () => {
    await start('');
    h.telegram.sendText(TOKEN, { chatId: GROUP, userId: 1, text: 'just chatting among humans' });
    h.telegram.sendText(TOKEN, { chatId: GROUP, userId: 1, text: '/help@someone_else_bot' });
    const asked = h.telegram.sendText(TOKEN, {
      chatId: GROUP,
      userId: 1,
      firstName: 'Ana',
      text: '@grp_bot what is 2+2?',
    });
    await h.telegram.waitForSent(1, { token: TOKEN });
    h.telegram.sendText(TOKEN, {
      chatId: GROUP,
      userId: 2,
      firstName: 'Bo',
      text: 'and 3+3?',
      replyToBotMessage: true,
    });
    h.telegram.sendText(TOKEN, { chatId: GROUP, userId: 2, text: '/help@grp_bot' });
    const sent = await h.telegram.waitForSent(3, { token: TOKEN });
    expect(sent.map((m) => m.text.split('\n')[0])).toEqual([
      'echo: Ana: what is 2+2?',
      'echo: Bo: and 3+3?',
      'Send me a message and I will answer.',
    ]);
    expect(h.telegram.updateIdOf(TOKEN, GROUP, sent[0]?.replyToMessageId ?? 0)).toBe(asked);
    // One shared group history, speakers named.
    expect(transcript(h.openai.lastRequest()?.body).slice(1)).toEqual([
      'user: Ana: what is 2+2?',
      'assistant: echo: Ana: what is 2+2?',
      'user: Bo: and 3+3?',
    ]);
  });

  it('never answers in groups with reply: never, but still in private', async () => {
    await start('groups: { reply: never }');
    h.telegram.sendText(TOKEN, { chatId: GROUP, userId: 1, text: '@grp_bot hello?' });
    h.telegram.sendText(TOKEN, { chatId: 1, userId: 1, text: 'private hello' });
    const [only] = await h.telegram.waitForSent(1, { token: TOKEN });
    expect(only?.chatId).toBe(1);
    await h.telegram.waitForCall((call) => call.method === 'getUpdates' && Number(call.params.offset) > 2);
    expect(h.telegram.sentMessages(TOKEN, GROUP)).toEqual([]);
  });

  it('keeps one history per sender with memory: user, and forum topics apart', async () => {
    await start('groups: { reply: always, memory: user }');
    h.telegram.sendText(TOKEN, { chatId: GROUP, userId: 1, firstName: 'Ana', text: 'I am Ana' });
    h.telegram.sendText(TOKEN, { chatId: GROUP, userId: 2, firstName: 'Bo', text: 'I am Bo' });
    await h.telegram.waitForSent(2, { token: TOKEN });
    h.telegram.sendText(TOKEN, { chatId: GROUP, userId: 1, firstName: 'Ana', text: 'who am I?' });
    h.telegram.sendText(TOKEN, { chatId: GROUP, userId: 1, firstName: 'Ana', text: 'in a topic', topicId: 5 });
    await h.telegram.waitForSent(4, { token: TOKEN });
    const whoAmI = h.openai.requests().find((r) => transcript(r.body).at(-1) === 'user: Ana: who am I?');
    expect(transcript(whoAmI?.body).slice(1)).toEqual([
      'user: Ana: I am Ana',
      'assistant: echo: Ana: I am Ana',
      'user: Ana: who am I?',
    ]);
    const topic = h.openai.requests().find((r) => transcript(r.body).at(-1) === 'user: Ana: in a topic');
    expect(transcript(topic?.body).slice(1)).toEqual(['user: Ana: in a topic']);
  });
});
