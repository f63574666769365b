/**
 * Rules the schema cannot express: references between sections and values that must be
 * unique or parseable. Runs on data that may still have schema problems, so every access is
 * defensive; a rule only speaks about values of the right type.
 */
import type { ConfigProblem } from '../errors.js';
import type { ConfigPath, YamlSource } from './yaml-source.js';

type Obj = Readonly<Record<string, unknown>>;

/** Built-in default provider name (the schema's `providerName.default`). */
export interface RuleContext {
  readonly defaultProvider: string;
  /** Built-in `window.maxTokens` (the schema's default). */
  readonly defaultWindowMaxTokens: number | undefined;
}

/** Checks cross-field rules on the interpolated config; returns every problem found. */
export function checkRules(source: YamlSource, data: unknown, context: RuleContext): ConfigProblem[] {
  const root = asObject(data);
  if (root === undefined) return [];
  const problems: ConfigProblem[] = [];
  const providers = asObject(root.providers) ?? {};
  const defaults = asObject(root.defaults) ?? {};
  const bots = asObject(root.bots) ?? {};

  checkStorageUrl(source, asObject(root.storage)?.url, problems);
  for (const [name, provider] of Object.entries(providers)) {
    checkUrl(source, ['providers', name, 'baseUrl'], asObject(provider)?.baseUrl, problems);
  }
  checkUrl(source, ['defaults', 'telegram', 'apiRoot'], asObject(defaults.telegram)?.apiRoot, problems);

  const declared = Object.keys(providers);
  checkSummaryProvider(source, ['defaults'], defaults, declared, problems);
  const summaryTooBig = new Set<string>();
  const tokenOwners = new Map<string, string>();
  for (const [id, value] of Object.entries(bots)) {
    const bot = asObject(value);
    if (bot === undefined) continue;
    checkUrl(source, ['bots', id, 'telegram', 'apiRoot'], asObject(bot.telegram)?.apiRoot, problems);
    checkSummaryProvider(source, ['bots', id], bot, declared, problems);
    checkSummarySize(source, id, bot, defaults, context, summaryTooBig, problems);

    const [providerPath, provider] =
      typeof bot.provider === 'string'
        ? [['bots', id, 'provider'], bot.provider]
        : typeof defaults.provider === 'string'
          ? [['defaults', 'provider'], defaults.provider]
          : [['bots', id], context.defaultProvider];
    if (!declared.includes(provider)) {
      const known =
        declared.length > 0
          ? `declared providers: ${declared.join(', ')}`
          : 'no provider is declared under `providers`';
      const inherited = providerPath.length === 2 ? ` (bot ${id} uses the default)` : '';
      const at = providerPath[0] === 'bots' && providerPath.length === 2 ? 'key' : 'value';
      problems.push(source.problemAt(providerPath, `unknown provider "${provider}"${inherited}; ${known}`, at));
    }

    const enabled = (bot.enabled ?? defaults.enabled ?? true) !== false;
    const token = bot.token;
    if (!enabled || typeof token !== 'string') continue;
    const owner = tokenOwners.get(token);
    if (owner === undefined) tokenOwners.set(token, id);
    else {
      const message = `same token as bots.${owner}; every bot needs its own token from @BotFather (Telegram lets only one process poll a token)`;
      problems.push(source.problemAt(['bots', id, 'token'], message));
    }
  }
  return problems;
}

/** `window.summary.provider`, where it is written (under `at`), must name a declared provider. */
function checkSummaryProvider(
  source: YamlSource,
  at: ConfigPath,
  settings: Obj,
  declared: readonly string[],
  problems: ConfigProblem[],
): void {
  const provider = asObject(asObject(settings.window)?.summary)?.provider;
  if (typeof provider !== 'string' || declared.includes(provider)) return;
  const known =
    declared.length > 0 ? `declared providers: ${declared.join(', ')}` : 'no provider is declared under `providers`';
  problems.push(
    source.problemAt([...at, 'window', 'summary', 'provider'], `unknown provider "${provider}"; ${known}`, 'value'),
  );
}

/** A bot's summary (window.summary.maxTokens, wherever written) must leave room in its window
 * (window.maxTokens) for the system prompt, the turns and the new message: a summary as big as
 * the window would crowd every turn out of every request. Reported once per place written. */
function checkSummarySize(
  source: YamlSource,
  id: string,
  bot: Obj,
  defaults: Obj,
  context: RuleContext,
  reported: Set<string>,
  problems: ConfigProblem[],
): void {
  const own = asObject(bot.window);
  const inherited = asObject(defaults.window);
  const summary = own?.summary !== undefined ? own.summary : inherited?.summary;
  if (summary === null || summary === undefined) return;
  const fromBot = asObject(own?.summary)?.maxTokens;
  const summaryTokens = fromBot ?? asObject(inherited?.summary)?.maxTokens;
  const windowTokens = own?.maxTokens ?? inherited?.maxTokens ?? context.defaultWindowMaxTokens;
  if (typeof summaryTokens !== 'number' || typeof windowTokens !== 'number' || summaryTokens * 2 <= windowTokens)
    return;
  const path: ConfigPath =
    fromBot !== undefined
      ? ['bots', id, 'window', 'summary', 'maxTokens']
      : ['defaults', 'window', 'summary', 'maxTokens'];
  const key = path.join('.');
  if (reported.has(key)) return;
  reported.add(key);
  problems.push(
    source.problemAt(
      path,
      `a summary of up to ${summaryTokens} tokens leaves too little of window.maxTokens (${windowTokens}${fromBot === undefined ? `, bot ${id}` : ''}) for the conversation; make it at most half of window.maxTokens (${Math.floor(windowTokens / 2)}), or raise window.maxTokens`,
      'value',
    ),
  );
}

function checkStorageUrl(source: YamlSource, url: unknown, problems: ConfigProblem[]): void {
  if (typeof url !== 'string') return;
  const path: ConfigPath = ['storage', 'url'];
  if (url.startsWith('sqlite://')) {
    if (url.length === 'sqlite://'.length)
      problems.push(source.problemAt(path, 'sqlite:// needs a file path, e.g. sqlite://data/botfleet.sqlite'));
  } else if (url.startsWith('redis://') || url.startsWith('rediss://')) {
    if (!URL.canParse(url))
      problems.push(
        source.problemAt(path, 'is not a valid Redis URL; expected redis://[user:password@]host[:port][/db]'),
      );
    else if (!/^\/?[0-9]*$/.test(new URL(url).pathname))
      problems.push(
        source.problemAt(path, 'the Redis database after the host must be a number, e.g. redis://localhost:6379/0'),
      );
  }
}

function checkUrl(source: YamlSource, path: ConfigPath, url: unknown, problems: ConfigProblem[]): void {
  if (typeof url === 'string' && /^https?:\/\//.test(url) && !URL.canParse(url)) {
    problems.push(source.problemAt(path, 'is not a valid URL'));
  }
}

function asObject(value: unknown): Obj | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Obj) : undefined;
}
