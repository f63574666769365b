/** The schema documents every property, and the example config is complete and valid. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import { type ConfigSchema, loadConfigSchema, type SchemaNode } from '../../src/config/schema.js';
import { REPO_ROOT } from '../support/cli.js';

/** Every property of the schema as `[dotted path, node, required]`; map entries are `*`. */
function properties(schema: ConfigSchema, node: SchemaNode, path: string, out: [string, SchemaNode, boolean][] = []) {
  const target = schema.deref(node);
  for (const [key, child] of Object.entries(target.properties ?? {})) {
    const childPath = path === '' ? key : `${path}.${key}`;
    out.push([childPath, schema.deref(child), target.required?.includes(key) ?? false]);
    properties(schema, child, childPath, out);
  }
  if (typeof target.additionalProperties === 'object')
    properties(schema, target.additionalProperties, `${path}.*`, out);
  return out;
}

/** The same paths as present in a YAML value, with bots.* and defaults merged into bots.*. */
function presentPaths(value: unknown, path: string, out = new Set<string>()): Set<string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return out;
  for (const [key, child] of Object.entries(value)) {
    const isMapEntry = path === 'bots' || path === 'providers';
    const childPath = path === '' ? key : `${path}.${isMapEntry ? '*' : key}`;
    out.add(childPath.replace(/^defaults\b/, 'bots.*'));
    presentPaths(child, childPath, out);
  }
  return out;
}

describe('schemas/bots.schema.json', () => {
  it('gives every property a description, and a default to every optional one', async () => {
    const schema = await loadConfigSchema();
    const all = properties(schema, schema.root, '');
    expect(all.length).toBeGreaterThan(40);
    const undocumented = all.filter(([, node]) => !node.description).map(([path]) => path);
    const noDefault = all.filter(([, node]) => !('default' in node)).map(([path]) => path);
    expect(undocumented).toEqual([]);
    expect(noDefault).toEqual([]);
  });

  it('closes every object so misspelled keys are caught', async () => {
    const schema = await loadConfigSchema();
    const open = [['', schema.root, false] as const, ...properties(schema, schema.root, '')]
      .filter(([, node]) => node.properties !== undefined && node.additionalProperties !== false)
      .map(([path]) => path);
    expect(open).toEqual([]);
  });
});

describe('config/bots.example.yaml', () => {
  const env = { OPENAI_API_KEY: 'sk-example', HELPER_BOT_TOKEN: '111:helper', CHEF_BOT_TOKEN: '222:chef' };

  it('starts with the yaml-language-server $schema line and validates', async () => {
    const text = await readFile(join(REPO_ROOT, 'config/bots.example.yaml'), 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../schemas/bots.schema.json');
    const fleet = await loadConfig({ file: 'config/bots.example.yaml', cwd: REPO_ROOT, env });
    expect(fleet.bots.map((bot) => bot.id)).toEqual(['helper', 'chef']);
    expect(fleet.disabledBotIds).toEqual(['paused']);
  });

  it('shows every setting the schema defines', async () => {
    const schema = await loadConfigSchema();
    const present = presentPaths(parse(await readFile(join(REPO_ROOT, 'config/bots.example.yaml'), 'utf8')), '');
    const wanted = properties(schema, schema.root, '').map(([path]) => path.replace(/^defaults\b/, 'bots.*'));
    expect(wanted.filter((path) => !present.has(path))).toEqual([]);
  });

  it('the starter config/bots.yaml validates once its two variables are set', async () => {
    const fleet = await loadConfig({
      file: 'config/bots.yaml',
      cwd: REPO_ROOT,
      env: { TELEGRAM_BOT_TOKEN: '1:a', OPENAI_API_KEY: 'k' },
    });
    expect(fleet.bots.map((bot) => bot.id)).toEqual(['assistant']);
  });
});
