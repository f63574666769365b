/**
 * The secrets the suite hands botfleet (bot tokens, API keys), and the scan of everything
 * botfleet said (log lines, errors, `check` output, metrics bodies) and of the report for any
 * of them: whole, URL-encoded, the secret part after the colon, or any 12+ character piece.
 */
import { randomBytes } from 'node:crypto';

const secrets: string[] = [];
const texts: { source: string; text: string }[] = [];

/** A random base62-ish string of `length` characters. */
function random(length: number): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  return [...randomBytes(length)].map((b) => alphabet[b % alphabet.length]).join('');
}

/** A fresh bot token `<id>:<35 random characters>` (registered for the scan). */
export function newToken(id: number): string {
  const token = `${id}:AA${random(33)}`;
  secrets.push(token);
  return token;
}

/** A fresh API key (registered for the scan). */
export function newApiKey(): string {
  const key = `sk-fault-${random(40)}`;
  secrets.push(key);
  return key;
}

/** Keeps `text` (botfleet's output, an error, a metrics body…) for the final scan. */
export function keep(source: string, text: string): void {
  if (text !== '') texts.push({ source, text });
}

/** How many texts and characters were kept. */
export function keptSize(): { texts: number; chars: number } {
  return { texts: texts.length, chars: texts.reduce((n, t) => n + t.text.length, 0) };
}

const PIECE = 12;

/** Where `text` holds a 12+ character piece of `secret` (or of its URL-encoded form): each such
 * piece holds one of the secret's 6-character pieces at offsets 0, 6, 12…, so those are
 * searched and every hit is checked by growing it. */
function leaks(secret: string, text: string): number {
  let found = 0;
  for (const form of new Set([secret, encodeURIComponent(secret)])) {
    const seen = new Set<number>();
    for (let k = 0; k + 6 <= form.length; k += 6) {
      const probe = form.slice(k, k + 6);
      for (let at = text.indexOf(probe); at >= 0; at = text.indexOf(probe, at + 1)) {
        let left = 0;
        while (k - left - 1 >= 0 && text[at - left - 1] === form[k - left - 1]) left++;
        let right = 6;
        while (k + right < form.length && text[at + right] === form[k + right]) right++;
        if (left + right >= PIECE && !seen.has(at - left)) {
          seen.add(at - left);
          found++;
        }
      }
    }
  }
  return found;
}

/** Occurrences of any secret in every kept text plus `extra` (the report), with where. */
export function scanSecrets(extra: readonly { source: string; text: string }[] = []): {
  occurrences: number;
  where: string[];
  secrets: number;
} {
  let occurrences = 0;
  const where = new Set<string>();
  for (const { source, text } of [...texts, ...extra]) {
    for (const secret of secrets) {
      const n = leaks(secret, text);
      if (n > 0) {
        occurrences += n;
        where.add(source);
      }
    }
  }
  return { occurrences, where: [...where], secrets: secrets.length };
}
