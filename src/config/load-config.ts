/**
 * Loads the config file end to end: read, parse with positions, fill `${VAR}`s, validate
 * against the schema and the cross-field rules, resolve. Every problem is collected in one
 * pass and thrown together as a ConfigError.
 */
import { resolve } from 'node:path';
import { MAX_YAML_ALIAS_COUNT } from '../defaults.js';
import { ConfigError, type ConfigProblem, errorMessage } from '../errors.js';
import type { BotfleetConfigFile } from './bots-config.generated.js';
import { checkRules } from './check-rules.js';
import { type EnvVars, interpolateEnv, readDotEnv } from './interpolate.js';
import { readConfigFile } from './read-config-file.js';
import { type BuiltInDefaults, resolveConfig } from './resolve.js';
import { defaultsOf, loadConfigSchema, type SchemaNode, schemaAt } from './schema.js';
import type { FleetConfig } from './types.js';
import { validateAgainstSchema } from './validate-schema.js';
import { parseYamlSource } from './yaml-source.js';

/** Where to load from. */
export interface LoadConfigOptions {
  /** The config path as the user gave it (messages quote it as is). */
  readonly file: string;
  /** Working directory: resolves `file`, the `.env` file and relative sqlite paths. */
  readonly cwd: string;
  /** The process environment; wins over `.env`. */
  readonly env: EnvVars;
  /** For commands that make no Telegram call (`chat`, `history`): a bot token that is not set
   * or not valid is no problem; the bot gets a placeholder token. Default false. */
  readonly withoutTelegram?: boolean;
}

/** Loads and resolves the config. Throws ConfigError listing every problem found. */
export async function loadConfig(options: LoadConfigOptions): Promise<FleetConfig> {
  const read = await readConfigFile(resolve(options.cwd, options.file), options.file);
  if ('problems' in read) throw new ConfigError(read.problems);

  const dotEnv = await readDotEnv(resolve(options.cwd, '.env'), '.env', options.env);
  const parsed = parseYamlSource(read.text, options.file);
  if ('problems' in parsed) throw new ConfigError([...dotEnv.problems, ...parsed.problems]);
  const { source } = parsed;

  const schema = await loadConfigSchema();
  const envProblems = interpolateEnv(source, dotEnv.vars, (path) => acceptsString(schemaAt(schema, path)));
  let data: unknown;
  try {
    data = source.doc.toJS({ maxAliasCount: MAX_YAML_ALIAS_COUNT });
  } catch (error) {
    // yaml refuses alias bombs ("excessive alias count") here; its message holds no file text.
    const message = errorMessage(error);
    throw new ConfigError([
      ...dotEnv.problems,
      { file: options.file, line: 1, col: 1, path: '', message: `YAML error: ${message}` },
    ]);
  }
  const builtIns = {
    storage: defaultsOf(schema, schema.root.properties?.storage ?? {}),
    server: defaultsOf(schema, schema.root.properties?.server ?? {}),
    provider: defaultsOf(schema, { $ref: '#/definitions/provider' }),
    bot: defaultsOf(schema, { $ref: '#/definitions/defaults' }),
  } as BuiltInDefaults;

  // A value whose ${VAR} could not be filled would also fail its format check; say it once.
  const unfilled = new Set(envProblems.map((problem) => problem.path));
  const checked = [
    ...validateAgainstSchema(schema, source, data),
    ...checkRules(source, data, {
      defaultProvider: builtIns.bot.provider,
      defaultWindowMaxTokens: builtIns.bot.window?.maxTokens,
    }),
  ].filter((problem) => !unfilled.has(problem.path));
  const all = [...dotEnv.problems, ...sortByPosition([...envProblems, ...checked])];
  const problems = options.withoutTelegram === true ? withoutTokenProblems(all, data) : all;
  if (problems.length > 0) throw new ConfigError(problems);

  return resolveConfig(data as BotfleetConfigFile, builtIns, { file: options.file, cwd: options.cwd });
}

const TOKEN_PATH = /^bots\.([A-Za-z0-9_-]+)\.token$/;

/** `problems` less those about a bot's token; each such bot gets the token `0:unused-{id}`
 * in `data` (no two alike, so the rule against shared tokens holds). */
function withoutTokenProblems(problems: ConfigProblem[], data: unknown): ConfigProblem[] {
  const bots = (data as { bots?: Record<string, { token?: unknown } | null> } | null)?.bots;
  return problems.filter((problem) => {
    const id = TOKEN_PATH.exec(problem.path)?.[1];
    const bot = id === undefined ? undefined : bots?.[id];
    if (id === undefined || typeof bot !== 'object' || bot === null) return true;
    bot.token = `0:unused-${id}`;
    return false;
  });
}

function sortByPosition(problems: ConfigProblem[]): ConfigProblem[] {
  return problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
}

function acceptsString(node: SchemaNode | undefined): boolean {
  const type = node?.type;
  return type === 'string' || (Array.isArray(type) && type.includes('string'));
}
