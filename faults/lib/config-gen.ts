/**
 * Generated config files for the fuzz (fast-check): random mutations of a valid file (a value
 * replaced by one of another type, a key added or removed), broken YAML, odd Unicode, huge
 * values, anchors and merge keys, missing environment variables, and anything at all.
 */
import fc from 'fast-check';
import { stringify } from 'yaml';

/** A valid fleet (its secrets come from FAULT_TOKEN_0/1 and FAULT_API_KEY). */
export function validConfig(apiRoot: string, baseUrl: string, storageUrl: string): Record<string, unknown> {
  return {
    version: 1,
    storage: { url: storageUrl, namespace: 'fuzz' },
    providers: { fake: { baseUrl, apiKey: '${FAULT_API_KEY}', timeoutMs: 5000, maxRetries: 1 } },
    defaults: {
      provider: 'fake',
      model: 'gpt-4o-mini',
      systemPrompt: 'You are terse.',
      window: { maxTurns: 20, maxTokens: 8000 },
      access: { users: [9101, 9102], chats: null },
      telegram: { apiRoot },
    },
    bots: {
      f0: { token: '${FAULT_TOKEN_0}', greeting: 'hi' },
      f1: { token: '${FAULT_TOKEN_1}', groups: { reply: 'always', memory: 'user' }, streaming: 'off' },
    },
  };
}

type Json = unknown;

/** Every path (list of keys) to a value in `value`. */
function paths(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(value)) for (const [i, v] of value.entries()) out.push(...paths(v, [...prefix, i]));
  else if (value !== null && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  return out;
}

function setAt(root: Json, path: readonly (string | number)[], update: (old: Json) => Json | undefined): Json {
  if (path.length === 0) return update(root);
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  const copy = (Array.isArray(root) ? [...root] : { ...(root as Record<string, Json>) }) as Record<string, Json>;
  const next = setAt(copy[head as string], rest, update);
  if (next === undefined) delete copy[head as string];
  else copy[head as string] = next;
  return copy;
}

const oddText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '\u202Eevil\u202C',
    '\u0000',
    '\uFEFF',
    'e\u0301\u0301\u0301',
    '👨‍👩‍👧‍👦',
    '\uD800',
    '${',
    '$${X}',
    '${MISSING_FAULT_VAR}',
    '${MISSING_FAULT_VAR:-}',
    '${:-x}',
    '${A B}',
    '~',
    'null',
    'yes',
    '0x1F',
    '.inf',
    '-.nan',
    '!!binary aGk=',
    '*alias',
    '&anchor',
    '%YAML 1.1',
    '---',
    '...',
  ),
);

const scalar = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  oddText,
  fc.constantFrom(1e308, -1, 0, 2 ** 53 + 1, 'x'.repeat(100_000), '9'.repeat(400)),
);

const value: fc.Arbitrary<Json> = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(oddText, scalar, { maxKeys: 3 }) },
);

/** A valid config with one to three of its values changed. */
function mutated(base: Json): fc.Arbitrary<string> {
  const all = paths(base).filter((p) => p.length > 0);
  const edit = fc.tuple(
    fc.constantFrom(...all),
    fc.oneof(
      value.map((v) => ({ kind: 'replace' as const, v })),
      fc.constant({ kind: 'delete' as const, v: undefined }),
      fc
        .tuple(fc.oneof(oddText, fc.constantFrom('tokne', 'enabledd', 'maxturns', '__proto__', 'constructor')), value)
        .map(([k, v]) => ({ kind: 'add' as const, k, v })),
    ),
  );
  return fc.array(edit, { minLength: 1, maxLength: 3 }).map((edits) => {
    let config = base;
    for (const [path, e] of edits) {
      if (e.kind === 'add') {
        config = setAt(config, path.slice(0, -1), (parent) =>
          parent !== null && typeof parent === 'object'
            ? Object.defineProperty({ ...(parent as object) }, e.k, {
                value: e.v,
                enumerable: true,
                writable: true,
                configurable: true,
              })
            : parent,
        );
      } else config = setAt(config, path, () => (e.kind === 'delete' ? undefined : e.v));
    }
    return stringify(config ?? null);
  });
}

/** The valid file's text with characters inserted, deleted or swapped. */
function brokenText(text: string): fc.Arbitrary<string> {
  const edit = fc.tuple(
    fc.nat({ max: text.length }),
    fc.nat({ max: 8 }),
    fc.oneof(
      oddText,
      fc.constantFrom(':', '{', '[', '"', "'", '\t', '\n  ', '- ', '#', '&a', '*a', '<<: *a', '|', '>'),
    ),
  );
  return fc.array(edit, { minLength: 1, maxLength: 4 }).map((edits) => {
    let out = text;
    for (const [at, cut, insert] of edits) out = out.slice(0, at) + insert + out.slice(Math.min(out.length, at + cut));
    return out;
  });
}

/** Files using anchors, aliases and merge keys, well and badly. */
function anchored(text: string): fc.Arbitrary<string> {
  return fc.constantFrom(
    text.replace('defaults:', 'defaults: &d').replace('  f1:', '  f2:\n    <<: *d\n    token: x\n  f1:'),
    text.replace('  f0:', '  f0: &b').replace('bots:', 'bots:\n  f9: *b'),
    text.replace('  f0:', '  f0:\n    <<: *nothing'),
    `a: &a [*a]\n${text}`,
    `x: &x\n  y: *x\n${text}`,
    text.replace('version: 1', 'version: &v 1\nother: *v'),
    `${text}\nbots: {}`,
    `%YAML 1.2\n---\n${text}\n---\nversion: 1\n`,
    `${'a: &a0 [x]\n'}${Array.from({ length: 30 }, (_, i) => `a${i + 1}: &a${i + 1} [*a${i}, *a${i}]`).join('\n')}\n${text}`,
  );
}

/** Any value at all as the whole file. */
const anything = fc.oneof(
  fc.anything({ maxDepth: 3 }).map((v) => stringify(v ?? null)),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom(
    '',
    '\n',
    '\0',
    '---',
    '[',
    'version: 1',
    'version: 2\nbots: {}',
    `${'['.repeat(5000)}`,
    `${'- '.repeat(2000)}x`,
  ),
);

/** `count` generated files (deterministic for a seed). */
export function generateConfigs(base: Record<string, unknown>, count: number, seed: number): string[] {
  const text = stringify(base);
  const arbitrary = fc.oneof(
    { weight: 5, arbitrary: mutated(base) },
    { weight: 3, arbitrary: brokenText(text) },
    { weight: 1, arbitrary: anchored(text) },
    { weight: 1, arbitrary: anything },
  );
  return fc.sample(arbitrary, { numRuns: count, seed });
}
