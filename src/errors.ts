/**
 * The application's error types. Each names where it happened, carries read-only structured
 * fields, and never holds a secret in its message (tokens, API keys and passwords are masked
 * before an error is built).
 */

/** What went wrong, by domain. `config`: the YAML is unusable; `storage`: the memory engine;
 * `model`: the LLM provider; `usage`: bad command-line arguments. */
export type AppErrorKind = 'config' | 'storage' | 'model' | 'usage';

/** Base class of every error botfleet raises on purpose. `kind` says which domain failed. */
export class AppError extends Error {
  readonly kind: AppErrorKind;

  constructor(kind: AppErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AppError';
    this.kind = kind;
  }
}

/** One problem in a config file. `line`/`col` are 1-based; absent when the whole file is at
 * fault (missing, unreadable). `path` is the dotted YAML path (`bots.chef.window`), or ''. */
export interface ConfigProblem {
  readonly file: string;
  readonly line?: number;
  readonly col?: number;
  readonly path: string;
  readonly message: string;
}

/** The config file cannot be used; `problems` lists every problem found in one pass. */
export class ConfigError extends AppError {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const first = problems[0];
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    super('config', `${first ? formatProblem(first) : 'invalid config'}${more}`);
    this.name = 'ConfigError';
    this.problems = Object.freeze([...problems]);
  }
}

/** Formats a problem as `FILE:LINE:COL PATH: message`, dropping the parts it lacks. */
export function formatProblem(problem: ConfigProblem): string {
  const where = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}:${problem.col ?? 1}`;
  return problem.path === '' ? `${where}: ${problem.message}` : `${where} ${problem.path}: ${problem.message}`;
}

/** Bad command-line arguments; the message says what to type instead. */
export class UsageError extends AppError {
  constructor(message: string) {
    super('usage', message);
    this.name = 'UsageError';
  }
}

/** The message of anything thrown: `error.message` for an Error, else its string form. For
 * logs and operator messages; says nothing about secrets (mask before, where one can occur). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
