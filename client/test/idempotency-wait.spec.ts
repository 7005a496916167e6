import { ApiError, BatchHttpClient } from '../src/http';

/** A keyed write that meets its own first request still running (409) asks again until that request's answer is replayed. */
describe('BatchHttpClient, keyed writes', () => {
  const inProgress = () =>
    new Response(
      JSON.stringify({
        statusCode: 409,
        code: 'IDEMPOTENCY_IN_PROGRESS',
        message: 'A request with this Idempotency-Key is still being handled',
      }),
      { status: 409, headers: { 'Content-Type': 'application/json' } },
    );
  const replayed = () =>
    new Response(JSON.stringify({ id: 'b-1', status: 'pending' }), {
      status: 200,
      headers: { 'Content-Type': 'application/json', 'Idempotent-Replayed': 'true' },
    });
  const body = { operation: 'diagnostics.echo', items: [{ n: 1 }] };

  function serverAnswering(...answers: (() => Response)[]) {
    const calls: { url: string; key: string | null }[] = [];
    const fetchFn = (async (url: string, init: RequestInit) => {
      calls.push({ url, key: (init.headers as Record<string, string>)['Idempotency-Key'] ?? null });
      const next = answers.shift();
      if (!next) throw new Error('no more answers');
      return next();
    }) as unknown as typeof fetch;
    return { calls, fetchFn };
  }

  it('sends the same key again until the first request’s answer comes back', async () => {
    const server = serverAnswering(inProgress, inProgress, replayed);
    const client = new BatchHttpClient({ baseUrl: 'http://api.test', token: 't', fetch: server.fetchFn });
    await expect(client.createBatch(body, { idempotencyKey: 'k-1' })).resolves.toMatchObject({ id: 'b-1' });
    expect(server.calls).toEqual([
      { url: 'http://api.test/batches', key: 'k-1' },
      { url: 'http://api.test/batches', key: 'k-1' },
      { url: 'http://api.test/batches', key: 'k-1' },
    ]);
  });

  it('rejects at once with idempotencyWaitMs 0, and never repeats a write without a key', async () => {
    const noWait = serverAnswering(inProgress, replayed);
    const impatient = new BatchHttpClient({
      baseUrl: 'http://api.test',
      token: 't',
      fetch: noWait.fetchFn,
      idempotencyWaitMs: 0,
    });
    const refused = await impatient.createBatch(body, { idempotencyKey: 'k-2' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ status: 409, code: 'IDEMPOTENCY_IN_PROGRESS' });
    expect(noWait.calls).toHaveLength(1);

    const unkeyed = serverAnswering(inProgress, replayed);
    const client = new BatchHttpClient({ baseUrl: 'http://api.test', token: 't', fetch: unkeyed.fetchFn });
    await expect(client.createBatch(body)).rejects.toMatchObject({ code: 'IDEMPOTENCY_IN_PROGRESS' });
    expect(unkeyed.calls).toHaveLength(1);
  });
});
