/** Masking of secrets for anything a person reads: summaries, logs and error messages. */

/** `123456:AAE…` becomes `123456:****`: the bot's numeric id stays (it is public), the secret
 * part never shows. Anything that does not look like a token is fully masked. */
export function maskToken(token: string): string {
  const colon = token.indexOf(':');
  return colon > 0 && /^[0-9]+$/.test(token.slice(0, colon)) ? `${token.slice(0, colon)}:****` : '****';
}

/** A URL with its password (and a username that is the only credential) replaced by `****`;
 * a string that is not a URL is returned with everything between `//` and `@` masked. */
export function maskUrl(url: string): string {
  if (!URL.canParse(url)) return url.replace(/\/\/[^/@]*@/, '//****@');
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = '****';
  else if (parsed.username !== '') parsed.username = '****';
  return parsed.toString();
}

/** `text` with every `//user:password@` it quotes (an error message quoting a URL) masked as
 * `//****@`. */
export function maskUrlCredentialsIn(text: string): string {
  return text.replace(/\/\/[^/@\s']*@/g, '//****@');
}

/** `text` with every occurrence of `secret` (an API key, a password) replaced by `****`; `text`
 * as it is when there is no secret. */
export function maskSecretIn(text: string, secret: string | null | undefined): string {
  return secret ? text.split(secret).join('****') : text;
}
