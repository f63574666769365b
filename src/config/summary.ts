/** The human-readable summary `botfleet check` prints: the resolved fleet, secrets masked. */
import { maskToken, maskUrl } from '../mask.js';
import type { BotConfig, FleetConfig } from './types.js';

/** Multi-line summary of `fleet`, ending with a newline. Never contains a token or key. */
export function formatFleetSummary(fleet: FleetConfig): string {
  const enabled = fleet.bots.length;
  const disabled = fleet.disabledBotIds.length;
  const lines = [
    `${fleet.file}: valid. ${plural(enabled, 'bot')} to run${disabled > 0 ? `, ${disabled} disabled` : ''}.`,
    '',
    `storage    ${maskUrl(fleet.storage.url)}  (namespace "${fleet.storage.namespace}")`,
    `server     ${serverOf(fleet)}`,
  ];
  const providers = [...fleet.providers.values()];
  const nameWidth = Math.max(...providers.map((provider) => provider.name.length), 1);
  providers.forEach((provider, index) => {
    const key = provider.apiKey === null ? 'no API key' : 'API key set';
    const head = index === 0 ? 'providers ' : '          ';
    lines.push(
      `${head} ${provider.name.padEnd(nameWidth)}  ${maskUrl(provider.baseUrl)}  ${key}, timeout ${provider.timeoutMs} ms, ${provider.maxRetries} retries`,
    );
  });
  lines.push('', enabled > 0 ? 'bots' : 'bots       (none enabled)');
  for (const bot of fleet.bots) lines.push(...describeBot(bot));
  if (disabled > 0) lines.push('', `disabled   ${fleet.disabledBotIds.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

/** Where the operators' server listens, or that there is none. */
function serverOf(fleet: FleetConfig): string {
  const server = fleet.server;
  if (server === undefined) return 'off (set server.port for /healthz, /readyz and /metrics)';
  const port = server.port === 0 ? 'a free port (logged at start)' : String(server.port);
  const where = server.port === 0 ? `${server.host}, ${port}` : `http://${server.host}:${port}`;
  return `${where}: /healthz, /readyz, /metrics`;
}

function describeBot(bot: BotConfig): string[] {
  const who =
    bot.access.users === null && bot.access.chats === null
      ? 'everyone'
      : [
          bot.access.users && plural(bot.access.users.length, 'user'),
          bot.access.chats && plural(bot.access.chats.length, 'group'),
        ]
          .filter(Boolean)
          .join(' + ');
  const telegram =
    bot.telegram.apiRoot === 'https://api.telegram.org' ? '' : `, Bot API ${maskUrl(bot.telegram.apiRoot)}`;
  return [
    `  ${bot.id}`,
    `    token    ${maskToken(bot.token)}${telegram}`,
    `    model    ${bot.provider.name} / ${bot.model}${bot.temperature === null ? '' : `, temperature ${bot.temperature}`}`,
    `    window   ${plural(bot.window.maxTurns, 'turn')}, ${bot.window.maxTokens} tokens${summaryOf(bot)}`,
    `    access   ${who}; groups: reply ${bot.groups.reply}, memory per ${bot.groups.memory}`,
  ];
}

/** ", older turns summarised by PROVIDER / MODEL (N tokens)" when window.summary is on. */
function summaryOf(bot: BotConfig): string {
  const summary = bot.window.summary;
  if (summary === null) return '';
  return `, older turns summarised by ${summary.provider.name} / ${summary.model} (up to ${summary.maxTokens} tokens)`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
