import { useQuery } from '@tanstack/react-query';
import { type FormEvent, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, type BatchClient } from '../../../client/src/index';
import { useCreateBatch } from '../../../client/src/react';
import { itemProblems, type JsonSchema, readItems } from '../items-input';
import { navigate, type Route } from '../route';
import { number, problemOf } from '../words';

/** What "Resubmit failed items" leaves for this form (session storage). */
export const RESUBMIT_KEY = 'batch-ops.resubmit';

type Field = 'operation' | 'items' | 'metadata' | 'chunkSize' | 'maxAttempts' | 'form';

/**
 * A new batch: operation, items (JSON, CSV with the item fields as header, or an exported
 * CSV), options and metadata. Checked as you type against the operation's item schema;
 * the server's details land next to the field they concern; one Idempotency-Key per
 * submit until it succeeds (a double click creates one batch).
 */
export function NewBatch({ client, route }: { client: BatchClient; route: Route }) {
  const operations = useQuery({ queryKey: ['operations'], queryFn: () => client.listOperations() });
  const resubmit = useMemo(() => {
    const stored = sessionStorage.getItem(RESUBMIT_KEY);
    sessionStorage.removeItem(RESUBMIT_KEY);
    return stored ? (JSON.parse(stored) as { operation: string; text: string; from: string }) : null;
  }, []);
  const [operation, setOperation] = useState(
    resubmit?.operation ?? route.params.get('operation') ?? 'papers.import',
  );
  const [text, setText] = useState(resubmit?.text ?? '');
  const [metadata, setMetadata] = useState(resubmit ? JSON.stringify({ resubmitOf: resubmit.from }) : '');
  const [chunkSize, setChunkSize] = useState('100');
  const [maxAttempts, setMaxAttempts] = useState('3');
  const [allowFailures, setAllowFailures] = useState(true);
  const [demoCount, setDemoCount] = useState('2000');
  const [touched, setTouched] = useState(resubmit !== null);
  const [serverErrors, setServerErrors] = useState<Partial<Record<Field, string[]>>>({});
  const create = useCreateBatch(client);
  const schema = (operations.data?.data.find((o) => o.name === operation)?.itemSchema ??
    null) as JsonSchema | null;

  const read = useMemo(() => readItems(text, schema), [text, schema]);
  const problems = read.ok ? itemProblems(read.items, schema) : [read.error];
  const metadataProblem = useMemo(() => {
    if (metadata.trim() === '') return null;
    try {
      const value = JSON.parse(metadata) as unknown;
      return typeof value === 'object' && value !== null && !Array.isArray(value)
        ? null
        : 'Metadata must be a JSON object, like {"source": "upload-42"}.';
    } catch (error) {
      return `Metadata is not valid JSON: ${(error as Error).message}.`;
    }
  }, [metadata]);
  const intProblem = (value: string, name: string, min: number, max: number) =>
    /^\d+$/.test(value) && Number(value) >= min && Number(value) <= max
      ? null
      : `${name} must be a whole number from ${min} to ${max}.`;
  const chunkProblem = intProblem(chunkSize, 'Chunk size', 1, 500);
  const attemptsProblem = intProblem(maxAttempts, 'Attempts', 1, 10);
  // Edits clear what the server said about the previous content.
  useEffect(() => setServerErrors({}), [text, operation, metadata, chunkSize, maxAttempts, allowFailures]);

  const itemsMessages = [...(touched ? problems : []), ...(serverErrors.items ?? [])];
  const blocked = !read.ok || problems.length > 0 || !!metadataProblem || !!chunkProblem || !!attemptsProblem;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (blocked || !read.ok || create.isPending) return;
    create.mutate(
      {
        operation,
        items: read.items,
        options: { chunkSize: Number(chunkSize), maxAttempts: Number(maxAttempts), allowFailures },
        ...(metadata.trim() ? { metadata: JSON.parse(metadata) as Record<string, unknown> } : {}),
      },
      {
        onSuccess: (batch) => navigate(`batches/${encodeURIComponent(batch.id)}`),
        onError: (error) => setServerErrors(fieldsOf(error)),
      },
    );
  };
  const generate = () => {
    const n = Math.max(1, Math.min(10_000, Number(demoCount) || 1));
    const stamp = Date.now().toString(36);
    const items = Array.from({ length: n }, (_, i) =>
      operation === 'papers.import'
        ? { title: `Demo paper ${i}`, doi: `10.1000/demo-${stamp}-${i}`, year: 2000 + (i % 25) }
        : { n: i },
    );
    setText(JSON.stringify(items));
    setTouched(true);
  };
  const upload = useRef<HTMLInputElement>(null);
  const onFile = async (file: File | undefined) => {
    if (!file) return;
    if (file.size > 10 * 1024 * 1024)
      return setServerErrors({ items: ['That file is over 10 MiB, the largest request the server takes.'] });
    setText(await file.text());
    setTouched(true);
  };
  const fieldNames = schema?.properties ? Object.keys(schema.properties) : [];
  return (
    <section aria-labelledby="new-title" className="card">
      <h2 id="new-title">New batch</h2>
      {resubmit && (
        <p className="note">
          The failed items of batch {resubmit.from.slice(0, 8)} are below, as exported: fix them here and
          submit them as a new batch.
        </p>
      )}
      <form onSubmit={submit} noValidate>
        <label htmlFor="operation">Operation</label>
        <select
          id="operation"
          value={operation}
          onChange={(e) => setOperation(e.target.value)}
          aria-describedby="operation-error"
        >
          {(operations.data?.data ?? [{ name: operation }]).map((o) => (
            <option key={o.name} value={o.name}>
              {o.name}
            </option>
          ))}
        </select>
        <FieldMessages id="operation-error" messages={serverErrors.operation} />

        <label htmlFor="items">Items</label>
        <p className="help" id="items-help">
          A JSON array of objects, a CSV whose header names the item fields
          {fieldNames.length ? ` (${fieldNames.join(', ')})` : ''}, or a CSV exported from a batch (its
          payload column is used).
        </p>
        <textarea
          id="items"
          rows={8}
          spellCheck={false}
          value={text}
          aria-invalid={itemsMessages.length > 0}
          aria-describedby="items-help items-error"
          placeholder='[{"title": "On Batches", "doi": "10.1000/xyz"}]'
          onChange={(e) => {
            setText(e.target.value);
            setTouched(true);
          }}
        />
        <FieldMessages id="items-error" messages={itemsMessages} />
        {read.ok && problems.length === 0 && (
          <p className="ok-note" id="items-ok">
            {number(read.items.length)} item{read.items.length === 1 ? '' : 's'} ready (
            {read.format === 'export' ? 'exported CSV' : read.format.toUpperCase()}).
          </p>
        )}
        <div className="row wrap">
          <button type="button" onClick={() => upload.current?.click()}>
            Load a file…
          </button>
          <input
            ref={upload}
            type="file"
            accept=".csv,.json,text/csv,application/json"
            hidden
            onChange={(e) => void onFile(e.target.files?.[0])}
          />
          <label htmlFor="demo-count" className="inline">
            Demo items
          </label>
          <input
            id="demo-count"
            type="number"
            min={1}
            max={10000}
            value={demoCount}
            className="short"
            onChange={(e) => setDemoCount(e.target.value)}
          />
          <button type="button" onClick={generate}>
            Generate demo items
          </button>
        </div>

        <details>
          <summary>Options and metadata</summary>
          <TextField
            id="chunk-size"
            label="Chunk size (items per transaction, 1–500)"
            value={chunkSize}
            onChange={setChunkSize}
            messages={[...(chunkProblem ? [chunkProblem] : []), ...(serverErrors.chunkSize ?? [])]}
          />
          <TextField
            id="max-attempts"
            label="Attempts per item (1–10)"
            value={maxAttempts}
            onChange={setMaxAttempts}
            messages={[...(attemptsProblem ? [attemptsProblem] : []), ...(serverErrors.maxAttempts ?? [])]}
          />
          <label className="inline">
            <input
              type="checkbox"
              checked={allowFailures}
              onChange={(e) => setAllowFailures(e.target.checked)}
            />{' '}
            Go on when items fail (else the first failure stops the batch, and every item is checked before
            anything is stored)
          </label>
          <label htmlFor="metadata">Metadata (JSON object, optional)</label>
          <textarea
            id="metadata"
            rows={2}
            spellCheck={false}
            value={metadata}
            aria-describedby="metadata-error"
            onChange={(e) => setMetadata(e.target.value)}
          />
          <FieldMessages
            id="metadata-error"
            messages={[...(metadataProblem ? [metadataProblem] : []), ...(serverErrors.metadata ?? [])]}
          />
        </details>

        <button type="submit" className="primary" disabled={create.isPending} aria-describedby="form-error">
          {create.isPending ? 'Submitting…' : 'Submit batch'}
        </button>
        <FieldMessages id="form-error" messages={serverErrors.form} />
      </form>
    </section>
  );
}

/** A numeric text input with its label and its messages under it. */
function TextField(props: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  messages: string[];
}) {
  return (
    <>
      <label htmlFor={props.id}>{props.label}</label>
      <input
        id={props.id}
        inputMode="numeric"
        value={props.value}
        aria-describedby={`${props.id}-error`}
        onChange={(e) => props.onChange(e.target.value)}
      />
      <FieldMessages id={`${props.id}-error`} messages={props.messages} />
    </>
  );
}

function FieldMessages({ id, messages }: { id: string; messages?: string[] }) {
  return (
    <div id={id} className="field-error" role="alert">
      {messages?.map((m, i) => (
        <p key={i}>{m}</p>
      ))}
    </div>
  );
}

/** The server's answer, put next to the field each part of it concerns. */
export function fieldsOf(error: unknown): Partial<Record<Field, string[]>> {
  if (!(error instanceof ApiError)) return { form: [problemOf(error)] };
  const out: Partial<Record<Field, string[]>> = {};
  const add = (field: Field, message: string) => (out[field] ??= []).push(message);
  if (error.code === 'UNKNOWN_OPERATION') {
    const names = (error.details as { operations?: string[] } | null)?.operations;
    add('operation', `${error.message}.${names ? ` Valid operations: ${names.join(', ')}.` : ''}`);
    return out;
  }
  if (error.code === 'BATCH_TOO_LARGE' || error.code === 'PAYLOAD_TOO_LARGE') {
    add('items', error.message);
    return out;
  }
  const itemErrors = (
    error.details as { items?: { index: number; errors: string[] }[]; invalidCount?: number } | null
  )?.items;
  if (itemErrors) {
    for (const item of itemErrors.slice(0, 5)) add('items', `Item ${item.index}: ${item.errors.join('; ')}`);
    const count = (error.details as { invalidCount?: number }).invalidCount ?? itemErrors.length;
    if (count > 5) add('items', `… ${count - 5} more invalid items.`);
    return out;
  }
  for (const message of error.fieldErrors) {
    const field: Field = message.startsWith('items')
      ? 'items'
      : message.startsWith('metadata')
        ? 'metadata'
        : message.startsWith('options.chunkSize')
          ? 'chunkSize'
          : message.startsWith('options.maxAttempts')
            ? 'maxAttempts'
            : message.startsWith('operation')
              ? 'operation'
              : 'form';
    add(field, message);
  }
  if (Object.keys(out).length === 0) add('form', problemOf(error));
  return out;
}
