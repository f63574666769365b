/**
 * `${VAR}`, `${VAR:-fallback}` and `$${` in the config's string values, filled from the
 * environment. Runs on the YAML document in place so every problem keeps its position.
 */
import { readFile } from 'node:fs/promises';
import { parseEnv } from 'node:util';
import { isPair, isScalar, isSeq, type Scalar, visit } from 'yaml';
import type { ConfigProblem } from '../errors.js';
import type { ConfigPath, YamlSource } from './yaml-source.js';

/** Variables by name. */
export type EnvVars = Readonly<Record<string, string | undefined>>;

const REFERENCE = /\$\$\{|\$\{([^}]*)\}?/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Reads `.env` at `path` when it exists and returns `env` over it (real variables win).
 * A missing `.env` is normal; one that cannot be read is a problem, named by `file`.
 */
export async function readDotEnv(
  path: string,
  file: string,
  env: EnvVars,
): Promise<{ vars: EnvVars; problems: ConfigProblem[] }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { vars: env, problems: [] };
    return { vars: env, problems: [{ file, path: '', message: `cannot be read (${code ?? 'unknown error'})` }] };
  }
  const fromFile = parseEnv(text) as Record<string, string>;
  const vars: Record<string, string | undefined> = { ...fromFile };
  for (const [name, value] of Object.entries(env)) if (value !== undefined) vars[name] = value;
  return { vars, problems: [] };
}

/** Replaces references in every string value of `source` (keys are left alone). An unquoted
 * value that becomes a number or boolean reads as one, as if written so, except where
 * `wantsString(path)` says the schema expects a string there (an all-digit API key). */
export function interpolateEnv(
  source: YamlSource,
  vars: EnvVars,
  wantsString: (path: ConfigPath) => boolean = () => false,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  visit(source.doc, {
    Scalar(key, node, ancestors) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('$')) return;
      const path = pathOf(ancestors, node);
      const result = substitute(node.value, vars);
      if ('problem' in result) {
        problems.push(source.problemAt(path, result.problem));
        return;
      }
      const coerce = node.type === 'PLAIN' && result.text !== node.value && !wantsString(path);
      node.value = coerce ? coercePlain(result.text) : result.text;
    },
  });
  return problems;
}

/** Substitutes every reference in `text`, or explains the first one that cannot be. */
function substitute(text: string, vars: EnvVars): { text: string } | { problem: string } {
  let problem: string | undefined;
  const out = text.replace(REFERENCE, (match, body: string | undefined) => {
    if (match === '$${') return '${';
    if (problem !== undefined) return match;
    if (!match.endsWith('}')) {
      problem = "'${' is not closed by '}'; write $${ for a literal ${";
      return match;
    }
    const body2 = body ?? '';
    const split = body2.indexOf(':-');
    const name = split === -1 ? body2 : body2.slice(0, split);
    if (!NAME.test(name)) {
      problem = `\${${name}} is not a valid variable name (letters, digits and _, not starting with a digit); write $\${ for a literal \${`;
      return match;
    }
    const value = vars[name];
    if (split !== -1) return value === undefined || value === '' ? body2.slice(split + 2) : value;
    if (value === undefined) {
      problem = `environment variable ${name} is not set; set it in the environment or in .env, or write \${${name}:-default}`;
      return match;
    }
    return value;
  });
  return problem === undefined ? { text: out } : { problem };
}

/** A plain (unquoted) scalar that became a number or boolean reads as one, as if written so. */
function coercePlain(text: string): string | number | boolean {
  if (/^[-+]?[0-9]+$/.test(text)) return Number(text);
  if (/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(text)) return Number(text);
  if (/^(true|True|TRUE)$/.test(text)) return true;
  if (/^(false|False|FALSE)$/.test(text)) return false;
  return text;
}

function pathOf(ancestors: readonly unknown[], node: Scalar): ConfigPath {
  const path: (string | number)[] = [];
  const chain = [...ancestors, node];
  for (const [index, ancestor] of chain.entries()) {
    if (isPair(ancestor) && isScalar(ancestor.key)) path.push(String(ancestor.key.value));
    else if (isSeq(ancestor)) path.push(ancestor.items.indexOf(chain[index + 1] as never));
  }
  return path;
}
