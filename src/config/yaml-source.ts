/**
 * The config file parsed as a YAML document that remembers where every key and value came
 * from, so later stages can point problems at `LINE:COL`.
 */
import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type Pair,
  parseDocument,
  type Scalar,
  visit,
  type YAMLMap,
} from 'yaml';
import type { ConfigProblem } from '../errors.js';

/** A path into the config: map keys and list indexes. */
export type ConfigPath = readonly (string | number)[];

/** A parsed document plus what is needed to turn offsets and paths into positions. */
export interface YamlSource {
  readonly file: string;
  readonly doc: Document.Parsed;
  /** 1-based line and column of a character offset. */
  position(offset: number): { line: number; col: number };
  /** A problem located at the value at `path` (or at its key, when `at` is 'key'), falling
   * back to the nearest ancestor that exists in the file. */
  problemAt(path: ConfigPath, message: string, at?: 'key' | 'value'): ConfigProblem;
}

/** Parsed source, or the syntax problems that stop the file being read. */
export type ParseResult = { readonly source: YamlSource } | { readonly problems: readonly ConfigProblem[] };

/** The message for a file with nothing in it but blanks and comments. */
export const EMPTY_FILE = 'file is empty; start from config/bots.example.yaml';

const YAML_MESSAGES: Readonly<Record<string, string>> = {
  TAB_AS_INDENT: 'tabs cannot indent YAML; indent with spaces',
  MULTIPLE_DOCS: "the file holds several YAML documents ('---'); botfleet reads exactly one",
};

/** Parses `text`. Syntax errors, duplicate keys and a non-mapping top level are problems. */
export function parseYamlSource(text: string, file: string): ParseResult {
  const lineCounter = new LineCounter();
  // `merge`: YAML 1.1 merge keys (`<<: *defaults`), which config files commonly use.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
  const position = (offset: number): { line: number; col: number } => lineCounter.linePos(offset);
  const at = (offset: number, path: string, message: string): ConfigProblem => ({
    file,
    ...position(offset),
    path,
    message,
  });
  // Tab indents and duplicate keys are independent of each other; after any other syntax
  // error the parser's later complaints are mostly echoes of the first, so only it is kept.
  const firstSyntax = doc.errors.find((error) => error.code !== 'DUPLICATE_KEY' && error.code !== 'TAB_AS_INDENT');
  const problems = doc.errors
    .filter((error) => error === firstSyntax || error.code === 'DUPLICATE_KEY' || error.code === 'TAB_AS_INDENT')
    .map((error) => {
      if (error.code === 'DUPLICATE_KEY') return duplicateKeyProblem(doc, error.pos[0], at, position);
      return at(error.pos[0], '', YAML_MESSAGES[error.code] ?? syntaxMessage(error.message));
    });
  visit(doc, {
    Alias(_key, alias) {
      if (alias.resolve(doc) === undefined) {
        problems.push(
          at(alias.range?.[0] ?? 0, '', `unknown alias *${alias.source}; define the anchor &${alias.source} before it`),
        );
      }
    },
  });
  if (problems.length > 0) return { problems };
  if (doc.contents === null) return { problems: [at(0, '', EMPTY_FILE)] };
  if (!isMap(doc.contents)) {
    const found = isSeq(doc.contents) ? 'a list' : 'a single value';
    const offset = doc.contents?.range?.[0] ?? 0;
    return {
      problems: [
        at(
          offset,
          '',
          `the top level must be a mapping of version, storage, server, providers, defaults and bots; found ${found}`,
        ),
      ],
    };
  }
  const source: YamlSource = {
    file,
    doc,
    position,
    problemAt(path, message, where = 'value') {
      const offset = locate(doc, path, where);
      return { file, ...position(offset), path: formatPath(path), message };
    },
  };
  return { source };
}

/** Formats a path for messages: `bots.chef.window.maxTurns`, `access.users[2]`. */
export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** Offset of the key or value at `path`, or of its nearest existing ancestor's key. Follows
 * aliases and merge keys, so a value that came from `<<: *anchor` is found in the anchor. */
function locate(doc: Document.Parsed, path: ConfigPath, where: 'key' | 'value'): number {
  let node: unknown = doc.contents;
  let best = doc.contents?.range?.[0] ?? 0;
  for (const [depth, segment] of path.entries()) {
    const last = depth === path.length - 1;
    const parent = resolveAlias(doc, node);
    if (isMap(parent)) {
      const pair = findPair(doc, parent, String(segment), 0);
      if (pair === undefined || !isNode(pair.key) || !pair.key.range) return best;
      best = pair.key.range[0];
      if (last && where === 'value' && isNode(pair.value) && pair.value.range) return pair.value.range[0];
      node = pair.value;
    } else if (isSeq(parent) && typeof segment === 'number') {
      const item = parent.items[segment];
      if (!isNode(item) || !item.range) return best;
      best = item.range[0];
      node = item;
    } else return best;
  }
  return best;
}

/** The pair for `key` in `map`: its own, else the first one a merge key (`<<`) brings in. */
function findPair(doc: Document.Parsed, map: YAMLMap, key: string, depth: number): Pair | undefined {
  const own = map.items.find((item) => isScalar(item.key) && !isMergeKey(item.key) && String(item.key.value) === key);
  if (own !== undefined || depth > 16) return own;
  for (const item of map.items) {
    if (!isScalar(item.key) || !isMergeKey(item.key)) continue;
    const value = resolveAlias(doc, item.value);
    const sources = isSeq(value) ? value.items.map((source) => resolveAlias(doc, source)) : [value];
    for (const source of sources) {
      const found = isMap(source) ? findPair(doc, source, key, depth + 1) : undefined;
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function isMergeKey(key: Scalar): boolean {
  return key.value === '<<' || (typeof key.value === 'symbol' && key.value.description === '<<');
}

function resolveAlias(doc: Document.Parsed, node: unknown): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

function isNode(value: unknown): value is Node {
  return value !== null && typeof value === 'object' && 'range' in value && !isPair(value);
}

function duplicateKeyProblem(
  doc: Document.Parsed,
  offset: number,
  at: (offset: number, path: string, message: string) => ConfigProblem,
  position: (offset: number) => { line: number; col: number },
): ConfigProblem {
  const found = findPairByKeyOffset(doc.contents, offset, []);
  if (found === undefined) return at(offset, '', 'duplicate key; each key may appear once in a mapping');
  const { path, first } = found;
  const where = first === undefined ? '' : ` (first defined on line ${position(first).line})`;
  return at(offset, formatPath(path), `duplicate key${where}; each key may appear once in a mapping`);
}

/** Finds the pair whose key starts at `offset`; returns its path and the offset of an earlier
 * pair with the same key in the same mapping. */
function findPairByKeyOffset(
  node: unknown,
  offset: number,
  path: (string | number)[],
): { path: (string | number)[]; first: number | undefined } | undefined {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '?';
      if (isScalar(pair.key) && pair.key.range?.[0] === offset) {
        const earlier = node.items.find(
          (other) => other !== pair && isScalar(other.key) && String(other.key.value) === key,
        );
        const firstOffset = isScalar(earlier?.key) ? earlier.key.range?.[0] : undefined;
        return { path: [...path, key], first: firstOffset };
      }
      const inner = findPairByKeyOffset(pair.value, offset, [...path, key]);
      if (inner) return inner;
    }
  } else if (isSeq(node)) {
    for (const [index, item] of node.items.entries()) {
      const inner = findPairByKeyOffset(item, offset, [...path, index]);
      if (inner) return inner;
    }
  }
  return undefined;
}

const TOKEN_NAMES: Readonly<Record<string, string>> = {
  'flow-map-start': "'{'",
  'flow-map-end': "'}'",
  'flow-seq-start': "'['",
  'flow-seq-end': "']'",
  'map-value-ind': "':'",
  'seq-item-ind': "'-'",
  comma: "','",
  comment: "'#'",
  anchor: 'an &anchor',
  alias: 'an *alias',
  tag: 'a !tag',
};

/** The parser's message, without the source excerpt some messages end with (it could be a
 * secret), and with a hint for the most common cause of an unexpected token. */
function syntaxMessage(raw: string): string {
  const token = /^Unexpected ([a-z-]+)/.exec(raw)?.[1];
  if (token !== undefined) {
    const what = TOKEN_NAMES[token] ?? (token.endsWith('scalar') ? 'a value' : token);
    return `YAML syntax error: unexpected ${what} here; quote values that contain '{', '}', '[', ']', ',', ': ' or ' #' (for example "\${VAR}" inside { })`;
  }
  const text = raw.replace(/:\s*"(?:[^"\\]|\\.)*"\s*$/, '');
  return `YAML syntax error: ${text.charAt(0).toLowerCase()}${text.slice(1)}`;
}
