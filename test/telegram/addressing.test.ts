/** Pure rules of who is addressed, who is allowed, and what text the model reads. */
import type { Message, UserFromGetMe } from 'grammy/types';
import { describe, expect, it } from 'vitest';
import { conversationId } from '../../src/memory/keys.js';
import {
  conversationOf,
  isAddressedToBot,
  isAllowed,
  modelInputOf,
  textForModel,
} from '../../src/telegram/addressing.js';
import { messageKind } from '../../src/telegram/commands.js';

const ME = { id: 99, is_bot: true, first_name: 'Helper', username: 'Helper_Bot' } as UserFromGetMe;
const group = (text: string, extra: Partial<Message> = {}): Message =>
  ({
    message_id: 1,
    date: 0,
    chat: { id: -5, type: 'supergroup', title: 'g' },
    from: { id: 7, is_bot: false, first_name: 'Ana', last_name: 'Lee' },
    text,
    ...extra,
  }) as Message;

describe('addressing', () => {
  it('sees a mention whatever its case, a text_mention, a reply and a leading command; not a mention of someone else', () => {
    const mention = (text: string) =>
      group(text, {
        entities: [
          {
            type: 'mention',
            offset: text.indexOf('@'),
            length: text.slice(text.indexOf('@')).split(' ')[0]?.length ?? 0,
          },
        ],
      });
    expect(isAddressedToBot(mention('hey @helper_bot how are you'), ME)).toBe(true);
    expect(isAddressedToBot(mention('hey @other_bot how are you'), ME)).toBe(false);
    expect(
      isAddressedToBot(
        group('hi', {
          entities: [{ type: 'text_mention', offset: 0, length: 2, user: { id: 99, is_bot: true, first_name: 'H' } }],
        }),
        ME,
      ),
    ).toBe(true);
    expect(
      isAddressedToBot(
        group('sure', { reply_to_message: { from: { id: 99 } } as NonNullable<Message['reply_to_message']> }),
        ME,
      ),
    ).toBe(true);
    expect(isAddressedToBot(group('/help', { entities: [{ type: 'bot_command', offset: 0, length: 5 }] }), ME)).toBe(
      true,
    );
    expect(isAddressedToBot(group('plain talk'), ME)).toBe(false);
  });

  it('removes the bot mention and names the sender in groups only', () => {
    expect(textForModel(group('@Helper_Bot, what time is it?'), '@Helper_Bot, what time is it?', ME)).toBe(
      'Ana Lee: what time is it?',
    );
    expect(textForModel(group('ask @helper_bot now'), 'ask @helper_bot now', ME)).toBe('Ana Lee: ask now');
    expect(textForModel(group('x'), '@Helper_Bot', ME)).toBe('Ana Lee: @Helper_Bot');
  });

  it('removes only the mention itself, never the end of an address like mail@helper_bot', () => {
    expect(textForModel(group('x'), 'write to mail@helper_bot or x_@Helper_Bot', ME)).toBe(
      'Ana Lee: write to mail@helper_bot or x_@Helper_Bot',
    );
    expect(textForModel(group('x'), 'mail@helper_bot (@helper_bot)', ME)).toBe('Ana Lee: mail@helper_bot ()');
  });

  it('changes nothing else: private text exactly as written, group text with only the mention gone', () => {
    const priv = { ...group('x'), chat: { id: 7, type: 'private', first_name: 'Ana' } } as Message;
    const written = '  hello @Helper_Bot\n\n    indented  code\n\t- tab item  ';
    expect(textForModel(priv, written, ME)).toBe(written);
    expect(textForModel(group('x'), '@Helper_Bot\n  def f():\n      return  1', ME)).toBe(
      'Ana Lee:\n  def f():\n      return  1',
    );
    expect(textForModel(group('x'), 'look:\n\n    a  b @helper_bot\n  c @Helper_Botty', ME)).toBe(
      'Ana Lee: look:\n\n    a  b\n  c @Helper_Botty',
    );
  });

  it('reads a caption like text, then a line naming the unseen attachment; a caption is never a command', () => {
    const photo = { photo: [{ file_id: 'p', file_unique_id: 'p', width: 1, height: 1 }] };
    const captioned = (caption: string, extra: Partial<Message> = {}): Message => {
      const { text: _text, ...message } = group('', { caption, ...photo, ...extra } as Partial<Message>);
      return message as Message;
    };
    const mention = '@Helper_Bot';
    const addressed = captioned(`${mention}, what is this?`, {
      caption_entities: [{ type: 'mention', offset: 0, length: mention.length }],
    });
    expect(isAddressedToBot(addressed, ME)).toBe(true);
    expect(isAddressedToBot(captioned('what is this?'), ME)).toBe(false);
    expect(modelInputOf(addressed, ME)).toBe(
      'Ana Lee: what is this?\n[The user attached a photo, which you cannot see.]',
    );
    expect(messageKind(captioned('/reset'), ME)).toBe('caption');
    expect(messageKind(captioned('x', { photo: undefined, sticker: {} } as unknown as Partial<Message>), ME)).toBe(
      'media',
    );
    const file = { document: { file_id: 'd', file_unique_id: 'd', file_name: 'my\nnotes.txt' } };
    const { text: _text, ...doc } = {
      ...group(''),
      caption: 'see',
      chat: { id: 3, type: 'private', first_name: 'A' },
      ...file,
    };
    expect(modelInputOf(doc as Message, ME)).toBe(
      'see\n[The user attached a file (my notes.txt), which you cannot see.]',
    );
  });

  it('allows by user or by chat, and everyone when both lists are null', () => {
    expect(isAllowed({ users: null, chats: null }, 1, 1)).toBe(true);
    expect(isAllowed({ users: [1], chats: null }, 1, -5)).toBe(true);
    expect(isAllowed({ users: [1], chats: null }, 2, -5)).toBe(false);
    expect(isAllowed({ users: [1], chats: [-5] }, 2, -5)).toBe(true);
    expect(isAllowed({ users: null, chats: [-5] }, 2, 2)).toBe(false);
    expect(isAllowed({ users: [1], chats: null }, undefined, -5)).toBe(false);
  });

  it('keys a conversation by bot, chat, topic (only for topic messages) and, per user, the sender', () => {
    const topic = group('x', { message_thread_id: 12, is_topic_message: true });
    const replyThread = group('x', { message_thread_id: 12 });
    expect(conversationId(conversationOf('b', topic, 'chat'))).toBe('b:-5:t12');
    expect(conversationId(conversationOf('b', replyThread, 'chat'))).toBe('b:-5');
    expect(conversationId(conversationOf('b', topic, 'user'))).toBe('b:-5:t12:u7');
    const priv = { ...group('x'), chat: { id: 7, type: 'private', first_name: 'Ana' } } as Message;
    expect(conversationId(conversationOf('b', priv, 'user'))).toBe('b:7');
  });
});
