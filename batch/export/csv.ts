/**
 * CSV for the slate export (`npm run export`, GET /v1/export?format=csv), written by csv-stringify (RFC 4180
 * quoting) with OWASP's CSV-injection rule applied to every text cell: a cell starting with `=`, `+`, `-`,
 * `@`, a tab or a carriage return is prefixed with `'`, so a spreadsheet shows it as text instead of running
 * it as a formula (reasons carry item titles, ids come from the site's catalogue: both are outside data).
 * Numbers (rank, score) are written as numbers.
 */
import { stringify } from 'csv-stringify/sync';

const FORMULA_START = /^[=+\-@\t\r]/;

/** OWASP: neutralise a text cell a spreadsheet would evaluate as a formula. */
export function neutraliseCell(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

type Cell = string | number | null;

export function csvLines(rows: readonly (readonly Cell[])[]): string {
  return stringify(rows.map((row) => [...row]), { cast: { string: neutraliseCell }, record_delimiter: '\n' });
}
