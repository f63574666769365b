/**
 * Turns the validated file into the FleetConfig the app runs on: built-in defaults, then the
 * file's `defaults`, then each bot's own values (objects merge key by key, lists and scalars
 * replace), providers resolved by name, disabled bots dropped, relative paths made absolute,
 * a trailing slash dropped from `telegram.apiRoot`, everything frozen.
 */
import { isAbsolute, resolve } from 'node:path';
import type {
  BotDefaults,
  BotfleetConfigFile,
  ProviderSettings,
  ServerSettings,
  StorageSettings,
  SummarySettings,
} from './bots-config.generated.js';
import type { BotConfig, FleetConfig, ProviderConfig, ServerConfig, StorageConfig, SummaryConfig } from './types.js';

/** Built-in defaults, read from the schema's `default` annotations (see schema.ts). */
export interface BuiltInDefaults {
  readonly storage: Required<StorageSettings>;
  readonly server: Required<ServerSettings>;
  readonly provider: Required<ProviderSettings>;
  readonly bot: Required<BotDefaults>;
}

/** Where the config came from: `file` as the user gave it, `cwd` for relative sqlite paths. */
export interface ResolveOptions {
  readonly file: string;
  readonly cwd: string;
}

/**
 * Resolves a file that passed validation and the cross-field rules. Throws only on an
 * internal inconsistency (a provider that the rules should have rejected).
 */
export function resolveConfig(
  parsed: BotfleetConfigFile,
  builtIns: BuiltInDefaults,
  options: ResolveOptions,
): FleetConfig {
  const storageSettings = { ...builtIns.storage, ...parsed.storage };
  const storage: StorageConfig = {
    url: absoluteStorageUrl(storageSettings.url, options.cwd),
    namespace: storageSettings.namespace,
  };

  const providers = new Map<string, ProviderConfig>();
  for (const [name, settings] of Object.entries(parsed.providers ?? {})) {
    providers.set(name, { name, ...builtIns.provider, ...settings });
  }

  const defaults = merge(builtIns.bot, parsed.defaults ?? {}) as Required<BotDefaults>;
  const bots: BotConfig[] = [];
  const disabledBotIds: string[] = [];
  for (const [id, own] of Object.entries(parsed.bots)) {
    if (own === undefined) continue;
    const settings = merge(defaults, own) as Required<BotDefaults> & { token: string };
    if (!settings.enabled) {
      disabledBotIds.push(id);
      continue;
    }
    const provider = providers.get(settings.provider);
    if (provider === undefined)
      throw new Error(`internal: bot ${id} names provider ${settings.provider}, which the rules should have rejected`);
    const { enabled: _enabled, provider: _provider, ...rest } = settings;
    const telegram = { ...rest.telegram, apiRoot: withoutTrailingSlash(String(rest.telegram.apiRoot)) };
    const window = {
      ...rest.window,
      summary: resolveSummary(id, rest.window.summary, provider, rest.model, providers),
    };
    bots.push({ id, ...rest, window, telegram, provider } as BotConfig);
  }
  const serverSettings = { ...builtIns.server, ...parsed.server };
  const server: ServerConfig | undefined =
    serverSettings.port === null ? undefined : { port: serverSettings.port, host: serverSettings.host };
  return deepFreeze({ file: options.file, storage, server, providers, bots, disabledBotIds });
}

/** The summary model's instructions when `window.summary.prompt` is not set: keep everything
 * that matters, drop only the wording. */
export const DEFAULT_SUMMARY_PROMPT = [
  'You keep the running summary of a conversation between a user and an assistant.',
  'You are given the summary so far (possibly empty) and the next part of the conversation.',
  'Write the new summary: the summary so far with the new part folded in.',
  'Keep every fact, name, number, date, decision, constraint and preference the user stated, and what the assistant promised or concluded;',
  'never drop a fact of the summary so far unless the conversation corrected it.',
  'Be concise: short plain sentences or bullet points, no preamble, no commentary.',
].join(' ');

/** The resolved `window.summary`: the bot's provider and model unless it names its own. */
function resolveSummary(
  id: string,
  settings: SummarySettings | undefined,
  botProvider: ProviderConfig,
  botModel: string,
  providers: ReadonlyMap<string, ProviderConfig>,
): SummaryConfig | null {
  if (settings === undefined || settings === null) return null;
  const name = settings.provider ?? botProvider.name;
  const provider = providers.get(name);
  if (provider === undefined)
    throw new Error(`internal: bot ${id} names summary provider ${name}, which the rules should have rejected`);
  return {
    provider,
    model: settings.model ?? botModel,
    maxTokens: settings.maxTokens,
    prompt: settings.prompt ?? DEFAULT_SUMMARY_PROMPT,
  };
}

/** `sqlite://relative/path` becomes `sqlite:///absolute/path`, resolved against `cwd`. */
export function absoluteStorageUrl(url: string, cwd: string): string {
  const prefix = 'sqlite://';
  if (!url.startsWith(prefix)) return url;
  const path = url.slice(prefix.length);
  return isAbsolute(path) ? url : `${prefix}${resolve(cwd, path)}`;
}

/** `https://host/` and `https://host` name the same Bot API root; grammY accepts only the
 * latter, so the slash a user may add is dropped here. */
function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** Deep merge for plain objects: `over`'s keys win, objects merge, anything else replaces. */
function merge(base: object, over: object): Record<string, unknown> {
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? merge(current, value) : value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Map);
}

function deepFreeze<T>(value: T): T {
  if (value instanceof Map) {
    for (const item of value.values()) deepFreeze(item);
  } else if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return Object.freeze(value);
}
