/** The results table: rows, their Markdown, and the results files. */

/** One line of the table. Values are numbers in `unit`, or a short text such as "n/a (…)". */
export interface Row {
  readonly scenario: string;
  readonly figure: string;
  readonly unit: string;
  /** Decimals shown. */
  readonly digits: number;
  readonly botfleet: number | string | null;
  readonly baseline: number | string | null;
  /** botfleet ÷ baseline, when both are numbers. */
  readonly ratio: number | null;
  readonly goal: string | null;
  readonly met: boolean | null;
}

/** A goal on the botfleet value (or on the ratio when `onRatio`). */
export interface Goal {
  readonly text: string;
  readonly check: (value: number) => boolean;
  readonly onRatio?: boolean;
}

/** `at most` / `at least` goals. */
export const atMost = (limit: number, text: string): Goal => ({ text, check: (v) => v <= limit });
export const atLeast = (limit: number, text: string): Goal => ({ text, check: (v) => v >= limit });
export const ratioAtLeast = (limit: number, text: string): Goal => ({ text, check: (v) => v >= limit, onRatio: true });

/** Builds a row; the ratio and whether the goal is met are computed here. */
export function row(input: {
  scenario: string;
  figure: string;
  unit: string;
  digits?: number;
  botfleet: number | string | null;
  baseline?: number | string | null;
  goal?: Goal;
  /** Overrides the computed verdict (e.g. false for a figure that could not be measured
   * because the system failed). By default a goal on a missing value is not judged (null). */
  met?: boolean | null;
}): Row {
  const { botfleet, baseline = null, goal } = input;
  const numeric = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  const ratio = numeric(botfleet) && numeric(baseline) && baseline !== 0 ? botfleet / baseline : null;
  const subject = goal?.onRatio === true ? ratio : botfleet;
  return {
    scenario: input.scenario,
    figure: input.figure,
    unit: input.unit,
    digits: input.digits ?? 1,
    botfleet,
    baseline,
    ratio,
    goal: goal?.text ?? null,
    met: input.met !== undefined ? input.met : goal === undefined || !numeric(subject) ? null : goal.check(subject),
  };
}

function formatValue(value: number | string | null, unit: string, digits: number): string {
  if (value === null) return '—';
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return 'n/a';
  const text = value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return unit === '' ? text : `${text} ${unit}`;
}

function formatRatio(ratio: number | null): string {
  if (ratio === null) return '—';
  const digits = ratio >= 10 ? 0 : ratio >= 1 ? 1 : 2;
  return `${ratio.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })}×`;
}

/** The table as Markdown. */
export function markdownTable(rows: readonly Row[]): string {
  const lines = [
    '| scenario | figure | botfleet | baseline | ratio | goal | met? |',
    '|---|---|---:|---:|---:|---|:---:|',
    ...rows
      .map((r) =>
        [
          r.scenario,
          r.figure,
          formatValue(r.botfleet, r.unit, r.digits),
          formatValue(r.baseline, r.unit, r.digits),
          formatRatio(r.ratio),
          r.goal ?? '—',
          r.met === null ? '—' : r.met ? 'yes' : '**no**',
        ].join(' | '),
      )
      .map((line) => `| ${line} |`),
  ];
  return lines.join('\n');
}
