/** The arguments of `botfleet history VERB …`, checked (see history.ts). */
import { UsageError } from '../errors.js';
import { TERMINAL_CHAT_ID } from '../memory/keys.js';
import type { HistoryCommand } from './history.js';

/** Checks the arguments of `botfleet history VERB …`. Throws UsageError saying what to fix. */
export function parseHistoryCommand(
  args: readonly string[],
  flags: {
    chat?: string | undefined;
    topic?: string | undefined;
    user?: string | undefined;
    all?: boolean | undefined;
    replace?: boolean | undefined;
  },
): HistoryCommand {
  const [verb, bot, chatArg, ...extra] = args;
  const usage = (text: string): UsageError => new UsageError(`${text}; see botfleet --help`);
  const integer = (name: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    if (text === 'terminal' && name !== 'user') return TERMINAL_CHAT_ID;
    if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(Number(text)))
      throw usage(`${name} must be an integer, got "${text}"`);
    return Number(text);
  };
  if (extra.length > 0) throw usage(`unexpected argument "${extra[0]}"`);
  const topic = integer('--topic', flags.topic);
  const needBot = (): string => bot ?? throwUsage(usage(`history ${verb} needs a bot id`));
  switch (verb) {
    case 'list':
      return noMore({ verb, bot: needBot() }, chatArg, usage);
    case 'show': {
      const chat = integer('chat', chatArg ?? flags.chat) ?? throwUsage(usage('history show needs a chat id'));
      return { verb, bot: needBot(), chat, ...(topic === undefined ? {} : { topic }) };
    }
    case 'export': {
      if (flags.all === true && bot !== undefined) throw usage('history export takes a bot id or --all, not both');
      if (flags.all !== true && bot === undefined) throw usage('history export needs a bot id, or --all');
      const chat = integer('--chat', flags.chat);
      return noMore(
        { verb, ...(bot === undefined ? {} : { bot }), ...(chat === undefined ? {} : { chat }) },
        chatArg,
        usage,
      );
    }
    case 'import':
      return noMore({ verb, replace: flags.replace === true }, bot, usage);
    case 'forget': {
      const user = integer('--user', flags.user) ?? throwUsage(usage('history forget needs --user ID'));
      if (user <= 0) throw usage('--user must be a Telegram user id (a positive integer)');
      return noMore({ verb, user }, bot, usage);
    }
    case 'reset': {
      const chat = integer('--chat', flags.chat ?? chatArg) ?? throwUsage(usage('history reset needs --chat ID'));
      return { verb, bot: needBot(), chat, ...(topic === undefined ? {} : { topic }) };
    }
    default:
      throw usage(`unknown history command "${verb ?? ''}"; they are list, show, export, import, forget, reset`);
  }
}

function noMore<T>(command: T, extra: string | undefined, usage: (text: string) => UsageError): T {
  if (extra !== undefined) throw usage(`unexpected argument "${extra}"`);
  return command;
}

function throwUsage(error: UsageError): never {
  throw error;
}
