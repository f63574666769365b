/**
 * Schema validation of the interpolated config, with ajv's errors rewritten as problems that
 * point at the offending key or value and say what to write instead. No message ever
 * includes a value from the file (it could be a secret); only key names and allowed values.
 */
import type { ConfigProblem } from '../errors.js';
import { type ConfigSchema, type ErrorObject, schemaAt } from './schema.js';
import { closest } from './suggest.js';
import type { ConfigPath, YamlSource } from './yaml-source.js';

/** Validates `data` against the schema; returns every problem, sorted by position. */
export function validateAgainstSchema(schema: ConfigSchema, source: YamlSource, data: unknown): ConfigProblem[] {
  if (schema.validate(data)) return [];
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const error of schema.validate.errors ?? []) {
    const problem = toProblem(schema, source, data, error);
    if (problem === undefined) continue;
    const id = `${problem.line}:${problem.col}:${problem.path}:${problem.message}`;
    if (!seen.has(id)) problems.push(problem);
    seen.add(id);
  }
  return problems;
}

function toProblem(
  schema: ConfigSchema,
  source: YamlSource,
  data: unknown,
  error: ErrorObject,
): ConfigProblem | undefined {
  const path = dataPath(data, error.instancePath);
  const params = error.params as Record<string, unknown>;
  // Errors inside `propertyNames` are about a key: ajv reports them with `propertyName`.
  if (error.keyword === 'propertyNames') return undefined;
  if (error.propertyName !== undefined) {
    const message = patternMessage(schema, error) ?? 'is not a valid name';
    return source.problemAt([...path, error.propertyName], message, 'key');
  }
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const known = Object.keys(schemaAt(schema, path)?.properties ?? {});
      const guess = closest(key, known);
      const hint = guess !== undefined ? `did you mean "${guess}"?` : `expected one of: ${known.join(', ')}`;
      return source.problemAt([...path, key], `unknown key; ${hint}`, 'key');
    }
    case 'required': {
      const missing = String(params.missingProperty);
      const problem = source.problemAt(path, '', 'key');
      return { ...problem, path: source.problemAt([...path, missing], '').path, message: 'is required but missing' };
    }
    case 'type':
      return source.problemAt(
        path,
        `must be ${describeTypes(String(params.type))}, not ${describeValue(valueAt(data, path))}`,
      );
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String);
      const value = valueAt(data, path);
      const guess = typeof value === 'string' ? closest(value, allowed) : undefined;
      const hint = guess !== undefined ? `; did you mean "${guess}"?` : '';
      return source.problemAt(path, `must be one of: ${allowed.join(', ')}${hint}`);
    }
    case 'const': {
      const hint = path.length === 1 && path[0] === 'version' ? ' (the only format version this botfleet reads)' : '';
      return source.problemAt(path, `must be ${JSON.stringify(params.allowedValue)}${hint}`);
    }
    case 'pattern':
      return source.problemAt(path, patternMessage(schema, error) ?? 'has the wrong format');
    case 'minLength':
      return source.problemAt(
        path,
        params.limit === 1 ? 'must not be empty' : `must be at least ${String(params.limit)} characters`,
      );
    case 'minProperties':
      return source.problemAt(
        path,
        `must have at least ${String(params.limit)} entr${params.limit === 1 ? 'y' : 'ies'}`,
      );
    case 'uniqueItems': {
      const [first, again] = [Number(params.i), Number(params.j)].sort((a, b) => a - b);
      return source.problemAt(
        [...path, again ?? 0],
        `repeats ${source.problemAt([...path, first ?? 0], '').path}; list each value once`,
      );
    }
    default:
      return source.problemAt(path, error.message ?? 'is invalid');
  }
}

/** The schema's own wording for a failed `pattern`, if it has one. */
function patternMessage(schema: ConfigSchema, error: ErrorObject): string | undefined {
  const node = error.parentSchema as { patternErrorMessage?: string; $ref?: string } | undefined;
  if (node === undefined) return undefined;
  return schema.deref(node).patternErrorMessage ?? node.patternErrorMessage;
}

/** Turns a JSON pointer into path segments, with list indexes as numbers. */
function dataPath(data: unknown, pointer: string): ConfigPath {
  const path: (string | number)[] = [];
  let value = data;
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const index = Array.isArray(value) ? Number(segment) : undefined;
    path.push(index ?? segment);
    value =
      index !== undefined ? (value as unknown[])[index] : (value as Record<string, unknown> | undefined)?.[segment];
  }
  return path;
}

function valueAt(data: unknown, path: ConfigPath): unknown {
  let value = data;
  for (const segment of path) value = (value as Record<string | number, unknown> | null | undefined)?.[segment];
  return value;
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  null: 'null',
};

function describeTypes(types: string): string {
  return types
    .split(',')
    .map((type) => TYPE_NAMES[type] ?? type)
    .join(' or ');
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'empty (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'number') return Number.isInteger(value) ? 'a whole number' : 'a fraction';
  return TYPE_NAMES[typeof value] ?? typeof value;
}
