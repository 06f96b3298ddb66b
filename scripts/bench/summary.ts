/**
 * The headline figures a benchmark hands to `npm run bench` (scripts/bench/all.ts): one line
 * `BENCH_SUMMARY <json>` per figure on stdout, printed only when BENCH_SUMMARY=1 (the runner sets
 * it), so someone running one benchmark by hand sees just that benchmark's own report.
 *
 * Kept apart from bench-kit.ts (which re-exports `reportSummary`) because the runner and
 * bench:startup must not load the app's modules just to print or read these lines.
 */

export interface SummaryRow {
  /** The benchmark's short name: offers, ingest, webhooks, fanout, posts, startup. */
  bench: string;
  metric: string;
  /** NaN (sent as null) when the figure could not be measured here, e.g. Postgres CPU on PGlite. */
  value: number;
  unit: string;
  /** The same figure for the benchmark's baseline, in the same unit. */
  baseline?: number;
  /** value ÷ baseline unless the note says otherwise (start-up gives the speed-up, baseline ÷ value). */
  ratio?: number;
  note?: string;
}

export const SUMMARY_PREFIX = 'BENCH_SUMMARY ';

/** Prints each row as `BENCH_SUMMARY <json>` when BENCH_SUMMARY=1; nothing otherwise. */
export function reportSummary(rows: SummaryRow[]): void {
  if (process.env.BENCH_SUMMARY !== '1') return;
  for (const row of rows) console.log(`${SUMMARY_PREFIX}${JSON.stringify(row)}`);
}

/** a ÷ b, or undefined when either is missing or the quotient is not a finite number. */
export function ratioOf(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || b === 0) return undefined;
  const r = a / b;
  return Number.isFinite(r) ? r : undefined;
}

/** The row on a `BENCH_SUMMARY` line, or undefined for any other line (or a malformed one). */
export function parseSummaryLine(line: string): SummaryRow | undefined {
  if (!line.startsWith(SUMMARY_PREFIX)) return undefined;
  try {
    const row = JSON.parse(line.slice(SUMMARY_PREFIX.length)) as Partial<Record<keyof SummaryRow, unknown>>;
    if (typeof row.bench !== 'string' || typeof row.metric !== 'string' || typeof row.unit !== 'string') return undefined;
    const num = (v: unknown) => (typeof v === 'number' ? v : v === null ? Number.NaN : undefined);
    return {
      bench: row.bench,
      metric: row.metric,
      value: num(row.value) ?? Number.NaN,
      unit: row.unit,
      baseline: num(row.baseline),
      ratio: num(row.ratio),
      note: typeof row.note === 'string' ? row.note : undefined,
    };
  } catch {
    return undefined;
  }
}
