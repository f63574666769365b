import { type CliResult, runCli } from './cli.js';

/** Runs `node dist/cli.js ...args` to completion with `input` piped to its standard input
 * (then closed). `env` replaces the environment except PATH and HOME, like runCli. */
export function runCliWithInput(
  args: readonly string[],
  input: string,
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  return runCli(args, { ...options, input });
}
