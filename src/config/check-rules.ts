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
  const tokenOwners = new Map<string, string>();
  for (const [id, value] of Object.entries(bots)) {
    const bot = asObject(value);
    if (bot === undefined) continue;
    checkUrl(source, ['bots', id, 'telegram', 'apiRoot'], asObject(bot.telegram)?.apiRoot, problems);
    checkSummaryProvider(source, ['bots', id], bot, declared, problems);

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
