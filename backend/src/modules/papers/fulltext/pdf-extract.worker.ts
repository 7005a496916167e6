import { PDFParse } from 'pdf-parse';

/** What a worker thread returns for one PDF. */
export interface ExtractedText {
  text: string;
  pages: number;
}

/**
 * Runs in a child process of the extraction pool (never on the service's event loop):
 * pdf.js parses the PDF under the process's heap cap, and the pool ends the process when
 * the time cap passes or the item is aborted.
 */
export async function extract(pdf: Uint8Array): Promise<ExtractedText> {
  const parser = new PDFParse({ data: pdf });
  try {
    const result = await parser.getText({ pageJoiner: '' });
    return { text: result.text.trim(), pages: result.total };
  } finally {
    await parser.destroy();
  }
}
