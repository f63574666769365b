/**
 * Reads the config file as UTF-8 text, turning every way a file can be unusable (missing, a
 * folder, too big, empty, not UTF-8) into a ConfigProblem the user can act on.
 */
import { readFile, stat } from 'node:fs/promises';
import type { ConfigProblem } from '../errors.js';
import { EMPTY_FILE } from './yaml-source.js';

/** Largest config file accepted, in bytes. A bots.yaml is a few KB; 1 MiB is generous. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** The text of a readable file, or the problems that stop it being read. */
export type ReadResult = { readonly text: string } | { readonly problems: readonly ConfigProblem[] };

/**
 * Reads `path` (resolved against `cwd`); `file` is the path as the user gave it, for messages.
 * Never throws for a bad file: it returns the problems instead.
 */
export async function readConfigFile(path: string, file: string): Promise<ReadResult> {
  const fail = (message: string, line?: number, col?: number): ReadResult => ({
    problems: [line === undefined ? { file, path: '', message } : { file, line, col: col ?? 1, path: '', message }],
  });
  let size: number;
  try {
    const info = await stat(path);
    if (info.isDirectory()) return fail('is a directory; --config needs a YAML file such as config/bots.yaml');
    size = info.size;
  } catch (error) {
    return fail(describeFsError(error));
  }
  if (size > MAX_CONFIG_BYTES) {
    // At 1:1 like the other whole-file problems, so every error a user reads has FILE:LINE:COL.
    return fail(
      `file is ${formatMb(size)}, over the ${formatMb(MAX_CONFIG_BYTES)} limit; is this the right file?`,
      1,
      1,
    );
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    return fail(describeFsError(error));
  }
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return fail('file is UTF-16 text; save it as UTF-8', 1, 1);
  }
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const body = bytes.subarray(start);
  const bad = firstInvalidUtf8(body);
  if (bad !== undefined) {
    const { line, col } = positionOfByte(body, bad);
    const hex = (body[bad] ?? 0).toString(16).toUpperCase().padStart(2, '0');
    return fail(`file is not valid UTF-8 (byte 0x${hex}); save it as UTF-8`, line, col);
  }
  const text = body.toString('utf8');
  if (text.trim() === '') return fail(EMPTY_FILE, 1, 1);
  return { text };
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file; copy config/bots.example.yaml there, or pass --config FILE';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied; make the file readable by the user running botfleet';
    case 'EISDIR':
      return 'is a directory; --config needs a YAML file such as config/bots.yaml';
    default:
      return `cannot be read (${code ?? 'unknown error'})`;
  }
}

function formatMb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** Index of the first byte that breaks UTF-8 (RFC 3629), or undefined when all is valid. */
function firstInvalidUtf8(bytes: Uint8Array): number | undefined {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] ?? 0;
    if (b < 0x80) {
      i += 1;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) [need, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [need, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [need, min] = [3, 0x10000];
    else return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k += 1) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return undefined;
}

/** 1-based line and column (in characters) of byte `offset`, for a prefix known to be valid. */
function positionOfByte(bytes: Buffer, offset: number): { line: number; col: number } {
  const before = bytes.subarray(0, offset).toString('utf8');
  const lines = before.split('\n');
  const last = lines[lines.length - 1] ?? '';
  return { line: lines.length, col: [...last].length + 1 };
}
