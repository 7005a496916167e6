/**
 * Reads what a user pastes or uploads as a batch's items: a JSON array of objects, a CSV
 * whose header names the operation's item fields, or a CSV exported from a batch
 * (`seq,status,attempts,error,payload,…`: the JSON `payload` column is the item, so
 * exported failures can be fixed and submitted again). Then checks each item against
 * the operation's item schema (JSON Schema from GET /batches/operations), so mistakes
 * show while typing, next to the box, before anything is sent.
 */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  items?: JsonSchema;
  nullable?: boolean;
}

export type ItemsRead =
  | { ok: true; items: Record<string, unknown>[]; format: 'json' | 'csv' | 'export' }
  | { ok: false; error: string };

/** At most this many item problems are listed. */
const SHOWN = 5;

export function readItems(text: string, schema: JsonSchema | null): ItemsRead {
  const trimmed = text.trim();
  if (trimmed === '')
    return { ok: false, error: 'Add at least one item: a JSON array or CSV with a header line.' };
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) return readJson(trimmed);
  return readCsv(trimmed, schema);
}

function readJson(text: string): ItemsRead {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `The items are not valid JSON: ${(error as Error).message}.` };
  }
  if (!Array.isArray(value))
    return { ok: false, error: 'The items must be a JSON array, like [{"title": "…"}].' };
  if (value.length === 0) return { ok: false, error: 'The array is empty: add at least one item.' };
  const bad = value.findIndex((v) => typeof v !== 'object' || v === null || Array.isArray(v));
  if (bad >= 0) return { ok: false, error: `Item ${bad} is not an object: every item must be {…}.` };
  return { ok: true, items: value as Record<string, unknown>[], format: 'json' };
}

function readCsv(text: string, schema: JsonSchema | null): ItemsRead {
  const rows = parseCsv(text).filter((r) => r.some((cell) => cell.trim() !== ''));
  if (rows.length < 2)
    return { ok: false, error: 'A CSV needs a header line and at least one row of items.' };
  const header = rows[0].map((h) => h.trim());
  const body = rows.slice(1);
  if (header.includes('payload')) {
    const at = header.indexOf('payload');
    const items: Record<string, unknown>[] = [];
    for (const [k, row] of body.entries()) {
      try {
        const item = JSON.parse(row[at] ?? '') as unknown;
        if (typeof item !== 'object' || item === null || Array.isArray(item))
          throw new Error('not an object');
        items.push(item as Record<string, unknown>);
      } catch {
        return { ok: false, error: `Row ${k + 2}: the payload cell is not a JSON object.` };
      }
    }
    return { ok: true, items, format: 'export' };
  }
  const fields = schema?.properties ? Object.keys(schema.properties) : null;
  if (fields) {
    const unknown = header.filter((h) => !fields.includes(h));
    if (unknown.length > 0)
      return {
        ok: false,
        error: `Unknown column${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `“${u}”`).join(', ')}: the header must name item fields (${fields.join(', ')}), or be an exported CSV with a payload column.`,
      };
    const missing = (schema?.required ?? []).filter((r) => !header.includes(r));
    if (missing.length > 0)
      return {
        ok: false,
        error: `The header lacks the required column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}.`,
      };
  }
  const items = body.map((row) => {
    const item: Record<string, unknown> = {};
    header.forEach((name, i) => {
      const cell = (row[i] ?? '').trim();
      if (cell === '') return;
      item[name] = cellValue(cell, schema?.properties?.[name]);
    });
    return item;
  });
  return { ok: true, items, format: 'csv' };
}

/** A cell as the field's type wants it (numbers, booleans, JSON arrays); text otherwise. */
function cellValue(cell: string, field: JsonSchema | undefined): unknown {
  const type = Array.isArray(field?.type) ? field.type[0] : field?.type;
  if ((type === 'integer' || type === 'number') && cell !== '' && Number.isFinite(Number(cell)))
    return Number(cell);
  if (type === 'boolean' && (cell === 'true' || cell === 'false')) return cell === 'true';
  if (type === 'array' && cell.startsWith('[')) {
    try {
      return JSON.parse(cell);
    } catch {
      return cell;
    }
  }
  return cell;
}

/** RFC 4180: fields separated by commas, quoted with ", a "" inside quotes is one ". */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  const endCell = () => {
    row.push(cell);
    cell = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') endCell();
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endCell();
      rows.push(row);
      row = [];
    } else cell += c;
  }
  row.push(cell);
  rows.push(row);
  return rows;
}

/** Problems of the items against the schema: "Item 3: doi must match …", the first few, and how many in all. */
export function itemProblems(items: Record<string, unknown>[], schema: JsonSchema | null): string[] {
  if (!schema) return [];
  const problems: string[] = [];
  let count = 0;
  items.forEach((item, index) => {
    for (const message of objectProblems(item, schema)) {
      count++;
      if (problems.length < SHOWN) problems.push(`Item ${index}: ${message}`);
    }
  });
  if (count > SHOWN) problems.push(`… and ${count - SHOWN} more problem${count - SHOWN > 1 ? 's' : ''}.`);
  return problems;
}

function objectProblems(item: Record<string, unknown>, schema: JsonSchema): string[] {
  const out: string[] = [];
  for (const name of schema.required ?? []) if (item[name] === undefined) out.push(`${name} is required`);
  for (const [name, value] of Object.entries(item)) {
    const field = schema.properties?.[name];
    if (!field) {
      if (schema.additionalProperties === false) out.push(`${name} is not a field of this operation`);
      continue;
    }
    const problem = valueProblem(value, field);
    if (problem) out.push(`${name} ${problem}`);
  }
  return out;
}

function valueProblem(value: unknown, field: JsonSchema): string | null {
  if (value === null) return field.nullable ? null : 'must not be null';
  const type = Array.isArray(field.type) ? field.type.find((t) => t !== 'null') : field.type;
  if (type === 'string') {
    if (typeof value !== 'string') return 'must be text';
    if (field.minLength !== undefined && value.length < field.minLength)
      return `must be at least ${field.minLength} characters`;
    if (field.maxLength !== undefined && value.length > field.maxLength)
      return `must be at most ${field.maxLength} characters`;
    if (field.pattern && !new RegExp(field.pattern, 'u').test(value)) return `must match ${field.pattern}`;
  } else if (type === 'integer' || type === 'number') {
    if (typeof value !== 'number' || !Number.isFinite(value)) return 'must be a number';
    if (type === 'integer' && !Number.isInteger(value)) return 'must be a whole number';
    if (field.minimum !== undefined && value < field.minimum) return `must be at least ${field.minimum}`;
    if (field.maximum !== undefined && value > field.maximum) return `must be at most ${field.maximum}`;
  } else if (type === 'boolean') {
    if (typeof value !== 'boolean') return 'must be true or false';
  } else if (type === 'array') {
    if (!Array.isArray(value)) return 'must be a list';
    if (field.maxItems !== undefined && value.length > field.maxItems)
      return `must have at most ${field.maxItems} entries`;
  }
  return null;
}
