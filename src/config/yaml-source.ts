/**
 * The config file parsed as a YAML document that remembers where every key and value came
 * from, so later stages can point problems at `LINE:COL`.
 */
import { type Document, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument, visit } from 'yaml';
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
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
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
          `the top level must be a mapping of version, storage, providers, defaults and bots; found ${found}`,
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

/** Offset of the key or value at `path`, or of its nearest existing ancestor's key. */
function locate(doc: Document.Parsed, path: ConfigPath, where: 'key' | 'value'): number {
  for (let depth = path.length; depth > 0; depth -= 1) {
    const parent = depth === 1 ? doc.contents : doc.getIn(path.slice(0, depth - 1), true);
    const segment = path[depth - 1];
    if (isMap(parent)) {
      const pair = parent.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (pair === undefined) continue;
      const useKey = where === 'key' || depth < path.length || !isNode(pair.value);
      const node = useKey ? pair.key : pair.value;
      if (isNode(node) && node.range) return node.range[0];
    } else if (isSeq(parent) && typeof segment === 'number') {
      const item = parent.items[segment];
      if (isNode(item) && item.range) return item.range[0];
    }
  }
  return doc.contents?.range?.[0] ?? 0;
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
