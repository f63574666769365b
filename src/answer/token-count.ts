/**
 * Counting tokens cheaply. The real tokenizer (gpt-tokenizer, o200k_base) costs about 65 MB of
 * memory and a few hundred ms to load, so it is loaded only the first time an exact count is
 * needed. Before that, a UTF-8 byte count serves as an upper bound: o200k_base is a byte-level
 * BPE, where every token stands for at least one byte of the text (special tokens such as
 * "<|endoftext|>" are encoded as ordinary text here), so a text never has more tokens than bytes.
 */
import { createRequire } from 'node:module';

type GptTokenizer = typeof import('gpt-tokenizer');

// Text like "<|endoftext|>" is ordinary user text here, never a control token.
const ENCODE_OPTIONS = { disallowedSpecial: new Set<string>() };

let tokenizer: GptTokenizer | undefined;

/** gpt-tokenizer, loaded (synchronously, its CommonJS build) on first use. */
function loadTokenizer(): GptTokenizer {
  tokenizer ??= createRequire(import.meta.url)('gpt-tokenizer') as GptTokenizer;
  return tokenizer;
}

/** Whether the tokenizer has been loaded in this process (for tests and the bench). */
export function tokenizerLoaded(): boolean {
  return tokenizer !== undefined;
}

/** An upper bound on the tokens of `text`: its UTF-8 length in bytes. */
export function tokenUpperBound(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** The token ids of `text`. */
export function encodeText(text: string): number[] {
  return loadTokenizer().encode(text, ENCODE_OPTIONS);
}

/** The text of token ids `tokens`. */
export function decodeTokens(tokens: readonly number[]): string {
  return loadTokenizer().decode(tokens);
}

/** Exact counts of recent texts: a stored turn is counted once, not at every message of its
 * chat while it stays in the window. Bounded by the characters it holds, oldest out first. */
const COUNT_CACHE_MAX_CHARS = 2_000_000;
const countCache = new Map<string, number>();
let cachedChars = 0;
/** Texts shorter than this are counted again rather than cached (cheap either way). */
const CACHE_MIN_CHARS = 64;

/** Exact tokens of `text` alone (no message overhead). */
export function countTokens(text: string): number {
  if (text.length < CACHE_MIN_CHARS) return encodeText(text).length;
  const cached = countCache.get(text);
  if (cached !== undefined) return cached;
  const count = encodeText(text).length;
  if (text.length <= COUNT_CACHE_MAX_CHARS / 4) {
    countCache.set(text, count);
    cachedChars += text.length;
    for (const oldest of countCache.keys()) {
      if (cachedChars <= COUNT_CACHE_MAX_CHARS) break;
      countCache.delete(oldest);
      cachedChars -= oldest.length;
    }
  }
  return count;
}
