export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

export interface Row {
  benchmark: string;
  measured: string;
  baseline: string;
  ratio: string;
  target: string;
  met: boolean | null;
}

export function printTable(rows: Row[]): void {
  const headers: (keyof Row)[] = ['benchmark', 'measured', 'baseline', 'ratio', 'target', 'met'];
  const cell = (r: Row, h: keyof Row) =>
    h === 'met' ? (r.met === null ? 'n/a' : r.met ? 'yes' : 'NO') : String(r[h]);
  const widths = headers.map((h) => Math.max(h.length, ...rows.map((r) => cell(r, h).length)));
  const line = (values: string[]) => '| ' + values.map((v, i) => v.padEnd(widths[i])).join(' | ') + ' |';
  console.log(line(headers));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of rows) console.log(line(headers.map((h) => cell(r, h))));
}
