/**
 * The home-server files, read as files (no Docker engine here to run them): compose.yaml is
 * valid Compose and sets up what the README promises, and .env.example names every variable
 * the configs ask for. Part of `npm test`; the image itself is tested by `*.container.ts`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_SHUTDOWN_DEADLINE_MS } from '../../src/defaults.js';
import { REPO_ROOT } from '../support/cli.js';

interface Service {
  readonly build?: unknown;
  readonly image?: string;
  readonly restart?: string;
  readonly env_file?: unknown;
  readonly volumes?: readonly string[];
  readonly stop_grace_period?: string;
  readonly profiles?: readonly string[];
  readonly depends_on?: unknown;
}

interface ComposeFile {
  readonly services: Readonly<Record<string, Service>>;
  readonly volumes?: Readonly<Record<string, unknown>>;
}

const read = (file: string): Promise<string> => readFile(join(REPO_ROOT, file), 'utf8');

/** A Compose duration (`1m30s`, `20s`, `1500ms`) in milliseconds. */
function durationMs(text: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001 };
  let total = 0;
  const rest = text.replace(/(\d+(?:\.\d+)?)(ms|us|h|m|s)/g, (_, value: string, unit: string) => {
    total += Number(value) * (units[unit] ?? Number.NaN);
    return '';
  });
  if (rest !== '' || text === '') throw new Error(`not a Compose duration: ${text}`);
  return total;
}

/** `${NAME}` and `${NAME:-…}` references in the string values of a YAML config (comments
 * aside): the names without a fallback, and all names. */
function variables(yamlText: string): { required: string[]; all: string[] } {
  const strings: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === 'string') strings.push(value);
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(parse(yamlText));
  const refs = strings.flatMap((text) => [...text.matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(:-)?/g)]);
  const unique = (names: string[]): string[] => [...new Set(names)];
  return {
    required: unique(refs.filter((m) => m[2] === undefined).map((m) => m[1] ?? '')),
    all: unique(refs.map((m) => m[1] ?? '')),
  };
}

describe('compose.yaml', () => {
  it('builds the repo and runs it with the .env file, ./config read-only and a named volume on /data', async () => {
    const compose = parse(await read('compose.yaml')) as ComposeFile;
    const botfleet = compose.services.botfleet;
    expect(botfleet).toMatchObject({ build: '.', restart: 'unless-stopped', env_file: '.env' });
    expect(botfleet?.image).toBeUndefined(); // no registry pull of someone else's "botfleet"
    expect(botfleet?.volumes).toContain('./config:/app/config:ro');
    const data = botfleet?.volumes?.find((volume) => volume.endsWith(':/data'))?.split(':')[0] ?? '';
    expect(Object.keys(compose.volumes ?? {})).toContain(data);
    expect(botfleet?.profiles).toBeUndefined();
  });

  it('gives botfleet longer than its shutdown deadline before SIGKILL', async () => {
    const compose = parse(await read('compose.yaml')) as ComposeFile;
    const grace = durationMs(compose.services.botfleet?.stop_grace_period ?? '');
    expect(grace).toBeGreaterThanOrEqual(DEFAULT_SHUTDOWN_DEADLINE_MS + 5000);
  });

  it('has Redis only under the redis profile, at the URL the example config and .env.example show', async () => {
    const compose = parse(await read('compose.yaml')) as ComposeFile;
    const redis = compose.services.redis;
    expect(redis?.profiles).toEqual(['redis']);
    expect(redis?.image).toMatch(/^redis:/);
    // Without the profile, botfleet must not need it.
    expect(compose.services.botfleet?.depends_on).toBeUndefined();
    for (const file of ['config/bots.example.yaml', '.env.example', 'compose.yaml'])
      expect(await read(file)).toContain('BOTFLEET_STORAGE_URL=redis://redis:6379');
  });
});

describe('.env.example', () => {
  it('sets every variable the starter config needs and names every one the example config reads', async () => {
    const envExample = await read('.env.example');
    const set = [...envExample.matchAll(/^([A-Za-z_][A-Za-z0-9_]*)=/gm)].map((m) => m[1]);
    const mentioned = [...envExample.matchAll(/^#? ?([A-Za-z_][A-Za-z0-9_]*)=/gm)].map((m) => m[1]);
    const starter = variables(await read('config/bots.yaml'));
    expect(starter.required.filter((name) => !set.includes(name))).toEqual([]);
    const example = variables(await read('config/bots.example.yaml'));
    // PAUSED_BOT_TOKEN belongs to a disabled bot and has a fallback: nothing to fill in.
    expect(example.all.filter((name) => !mentioned.includes(name) && name !== 'PAUSED_BOT_TOKEN')).toEqual([]);
  });
});
