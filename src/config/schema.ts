/**
 * The config format's single source of truth, `schemas/bots.schema.json`, loaded, with its
 * validator (compiled ahead of time into validate-config.generated.ts by `npm run gen:types`,
 * so a start neither loads ajv nor compiles the schema), plus the built-in defaults read from
 * its `default` annotations.
 */
import { readFile } from 'node:fs/promises';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { validate as generatedValidate } from './validate-config.generated.js';

/** A JSON Schema node as this project writes them (draft-07 subset). */
export interface SchemaNode {
  readonly $ref?: string;
  readonly type?: string | readonly string[];
  readonly description?: string;
  readonly default?: unknown;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly additionalProperties?: boolean | SchemaNode;
  readonly required?: readonly string[];
  readonly enum?: readonly unknown[];
  readonly patternErrorMessage?: string;
  readonly definitions?: Readonly<Record<string, SchemaNode>>;
}

/** The compiled schema: the raw JSON, its validator, and a `$ref` resolver. */
export interface ConfigSchema {
  readonly root: SchemaNode;
  readonly validate: ValidateFunction;
  /** Follows `$ref`s (local `#/definitions/…` only) to the node they name. */
  deref(node: SchemaNode): SchemaNode;
}

/** Where the schema lives, relative to this module in both src/ and dist/. */
export const SCHEMA_URL = new URL('../../schemas/bots.schema.json', import.meta.url);

/** Reads and compiles the schema. Throws if the file is missing or not a valid schema (a
 * broken installation, not a user error). */
export async function loadConfigSchema(): Promise<ConfigSchema> {
  const root = JSON.parse(await readFile(SCHEMA_URL, 'utf8')) as SchemaNode;
  const validate = generatedValidate as ValidateFunction;
  const deref = (node: SchemaNode): SchemaNode => {
    let current = node;
    for (let hops = 0; current.$ref !== undefined && hops < 16; hops += 1) {
      const name = current.$ref.replace(/^#\/definitions\//, '');
      const target = root.definitions?.[name];
      if (target === undefined) throw new Error(`schema: unresolved $ref ${current.$ref}`);
      current = target;
    }
    return current;
  };
  return { root, validate, deref };
}

/** The schema node at a data path (keys and indexes), or undefined where the schema is open. */
export function schemaAt(schema: ConfigSchema, path: readonly (string | number)[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = schema.deref(schema.root);
  for (const segment of path) {
    if (node === undefined) return undefined;
    const named: SchemaNode | undefined = typeof segment === 'string' ? node.properties?.[segment] : undefined;
    const extra: SchemaNode | undefined =
      typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined;
    const next: SchemaNode | undefined = named ?? extra ?? (node as { items?: SchemaNode }).items;
    node = next === undefined ? undefined : schema.deref(next);
  }
  return node;
}

/** The value a schema node stands for when absent: objects are built from their properties'
 * defaults (unless their `default` is null: an optional object that is off when absent, like
 * `window.summary`), everything else is its `default`. */
export function defaultsOf(schema: ConfigSchema, node: SchemaNode): unknown {
  const target = schema.deref(node);
  if (target.properties !== undefined && target.default !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(target.properties)) {
      const value = defaultsOf(schema, child);
      if (value !== undefined) out[key] = value;
    }
    return out;
  }
  return target.default;
}

export type { ErrorObject };
