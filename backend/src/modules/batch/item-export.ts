import type { Writable } from 'node:stream';
import { once } from 'node:events';

export type ExportFormat = 'csv' | 'ndjson';

export interface ExportRow {
  seq: number;
  status: string;
  attempts: number;
  error: string | null;
  errorCategory: string | null;
  retryable: boolean | null;
  /** The item as stored, as JSON text. */
  payloadJson: string;
  /** The result as JSON text; null when the item has none (or its result is JSON null). */
  resultJson: string | null;
}

export const CSV_HEADER = 'seq,status,attempts,error,payload,result,errorCategory,retryable\n';

/** A CSV cell: quoted when it holds a comma, quote or line break; a text that a spreadsheet would run as a formula gets a leading apostrophe. */
function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/**
 * One line of the export: CSV columns `seq,status,attempts,error,payload,result,errorCategory,retryable`
 * (payload and result as JSON cells; the first six as in v2, so older readers keep working), or one NDJSON object.
 */
export function exportLine(row: ExportRow, format: ExportFormat): string {
  // The JSON texts go in as they are: parsing them only to serialize them again made most
  // of an export's garbage (measured: see the README's export row).
  if (format === 'ndjson')
    return `{"seq":${row.seq},"status":${JSON.stringify(row.status)},"attempts":${row.attempts},"error":${JSON.stringify(
      row.error,
    )},"errorCategory":${JSON.stringify(row.errorCategory)},"retryable":${JSON.stringify(row.retryable)},"payload":${
      row.payloadJson
    },"result":${row.resultJson ?? 'null'}}\n`;
  const error = row.error === null ? '' : csvCell(row.error);
  const category = row.errorCategory === null ? '' : csvCell(row.errorCategory);
  const retryable = row.retryable === null ? '' : String(row.retryable);
  const result = row.resultJson === null ? '' : csvCell(row.resultJson);
  return `${row.seq},${row.status},${row.attempts},${error},${csvCell(row.payloadJson)},${result},${category},${retryable}\n`;
}

/**
 * Streams pages of rows to `out` with backpressure: memory stays at one page whatever the
 * batch size. Stops early when the client goes away.
 */
export async function streamRows(
  out: Writable,
  nextPage: (afterSeq: number) => Promise<ExportRow[]>,
  format: ExportFormat,
): Promise<number> {
  let written = 0;
  let afterSeq = -1;
  // One 'close' listener for the whole export (one per page piled up listeners on a long one).
  const closed = once(out, 'close').catch(() => undefined);
  if (format === 'csv') out.write(CSV_HEADER);
  for (;;) {
    const page = await nextPage(afterSeq);
    if (page.length === 0 || out.destroyed) break;
    const chunk = page.map((row) => exportLine(row, format)).join('');
    if (!out.write(chunk)) await Promise.race([once(out, 'drain'), closed]);
    written += page.length;
    afterSeq = page[page.length - 1].seq;
  }
  return written;
}
