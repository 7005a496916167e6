import { type QueryClient, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import {
  ApiError,
  type AuditTrail,
  type BatchClient,
  type FlagView,
  type RolloutPlanView,
} from '../../../client/src/index';
import { Confirm } from '../components/Confirm';
import { href, type Route } from '../route';
import { problemOf, reasonWord } from '../words';

const GUARD_LABELS: Record<string, string> = {
  itemFailureRate: 'Item failure rate',
  serverErrorRate: 'Server errors (5xx)',
  p95LatencyMs: 'p95 latency',
  databaseBusyRate: 'Database busy',
};
const PLAN_STATES: Record<string, string> = {
  active: 'running',
  paused: 'paused',
  halted: 'halted after a breach',
  completed: 'completed',
  aborted: 'aborted',
};

/** Everything shown of flag `name` (the flag, its plan and audit trail) and what depends on flags, fetched again after a change. */
function refreshFlag(queryClient: QueryClient, name: string): void {
  for (const queryKey of [['flag', name], ['plan', name], ['audit', name], ['flags'], ['features']])
    void queryClient.invalidateQueries({ queryKey });
}

/** The server's per-field messages when it gave any, else the problem in words. */
const refusalOf = (error: unknown): string =>
  error instanceof ApiError && error.fieldErrors.length ? error.fieldErrors.join('; ') : problemOf(error);

/** "alice, bob\ncarol" → ["alice", "bob", "carol"]: commas, spaces and new lines all separate ids. */
export const idsOf = (text: string) => [...new Set(text.split(/[\s,;]+/).filter(Boolean))];

/** The feature flags (admins): the switch, rollout, allow and deny lists, the audit trail, and the flag's rollout plan. */
export function FlagsView({ client, route }: { client: BatchClient; route: Route }) {
  const flags = useQuery({ queryKey: ['flags'], queryFn: () => client.listFlags() });
  const name = route.params.get('name') ?? 'BATCH_OPERATIONS';
  return (
    <section aria-labelledby="flags-title">
      <h2 id="flags-title">Feature flags</h2>
      <nav aria-label="Flags" className="tabs">
        {(flags.data?.data ?? []).map((f) => (
          <a
            key={f.name}
            href={href('flags', { name: f.name })}
            aria-current={f.name === name ? 'page' : undefined}
          >
            {f.name}{' '}
            <span className={`chip ${f.enabled ? 'on' : 'off'}`}>{f.enabled ? `${f.rollout} %` : 'off'}</span>
          </a>
        ))}
      </nav>
      {flags.isError && <p className="error">{problemOf(flags.error)}</p>}
      <FlagEditor key={name} client={client} name={name} />
      <RolloutPlan key={`plan-${name}`} client={client} name={name} />
      <Audit client={client} name={name} />
    </section>
  );
}

function FlagEditor({ client, name }: { client: BatchClient; name: string }) {
  const queryClient = useQueryClient();
  const flag = useQuery({ queryKey: ['flag', name], queryFn: () => client.getFlag(name), retry: false });
  const [enabled, setEnabled] = useState(true);
  const [rollout, setRollout] = useState('0');
  const [allow, setAllow] = useState('');
  const [deny, setDeny] = useState('');
  const [description, setDescription] = useState('');
  const [result, setResult] = useState<{ text: string; error: boolean } | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [probe, setProbe] = useState('');
  const [probeResult, setProbeResult] = useState('');
  useEffect(() => {
    const f = flag.data;
    if (!f) return;
    setEnabled(f.enabled);
    setRollout(String(f.rollout));
    setAllow(f.whitelist.join(', '));
    setDeny(f.blacklist.join(', '));
    setDescription(f.description ?? '');
  }, [flag.data]);
  const rolloutProblem =
    /^\d{1,3}(\.\d{1,2})?$/.test(rollout.trim()) && Number(rollout) <= 100
      ? null
      : 'Rollout must be a number from 0 to 100, with at most 2 decimals.';
  const body = {
    enabled,
    rollout: Number(rollout),
    whitelist: idsOf(allow),
    blacklist: idsOf(deny),
    ...(description.trim() ? { description: description.trim() } : {}),
  };
  const narrows = (f: FlagView | undefined) => !!f && ((f.enabled && !enabled) || body.rollout < f.rollout);
  const save = async () => {
    setConfirming(false);
    try {
      await client.putFlag(name, body);
      setResult({
        text: `Saved: ${enabled ? `on for ${body.rollout} % of users` : 'off for everyone'}.`,
        error: false,
      });
      refreshFlag(queryClient, name);
    } catch (error) {
      setResult({
        text: refusalOf(error),
        error: true,
      });
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (rolloutProblem) return;
    if (narrows(flag.data)) setConfirming(true);
    else void save();
  };
  const evaluate = async (e: FormEvent) => {
    e.preventDefault();
    if (!probe.trim()) return setProbeResult('Type a user id.');
    try {
      const r = await client.evaluateFlag(name, probe.trim());
      setProbeResult(
        `${probe.trim()}: ${r.enabled ? 'on' : 'off'}, because ${reasonWord(r.reason)}${r.bucket !== null ? ` (bucket ${r.bucket})` : ''}.`,
      );
    } catch (error) {
      setProbeResult(problemOf(error));
    }
  };
  return (
    <div className="card">
      <h3>{name}</h3>
      {flag.isError && (flag.error as ApiError).code !== 'NOT_FOUND' && (
        <p className="error">{problemOf(flag.error)}</p>
      )}
      {flag.isError && <p className="note">This flag is not defined yet: saving creates it.</p>}
      <form onSubmit={submit} noValidate className="flag-form" aria-busy={flag.isPending}>
        {/* Disabled until the flag is read: an edit typed earlier would be overwritten when it arrives. */}
        <fieldset className="bare" disabled={flag.isPending}>
          <fieldset>
            <legend>Switch</legend>
            <label className="inline">
              <input type="radio" name="enabled" checked={enabled} onChange={() => setEnabled(true)} /> On,
              for the users below
            </label>
            <label className="inline">
              <input type="radio" name="enabled" checked={!enabled} onChange={() => setEnabled(false)} /> Off
              for everyone (kill switch)
            </label>
          </fieldset>
          <label htmlFor="flag-rollout">Rollout (% of users)</label>
          <div className="row">
            <input
              id="flag-rollout-slider"
              type="range"
              min={0}
              max={100}
              step={1}
              aria-label="Rollout slider"
              value={Number.isFinite(Number(rollout)) ? Math.round(Number(rollout)) : 0}
              onChange={(e) => setRollout(e.target.value)}
            />
            <input
              id="flag-rollout"
              className="short"
              inputMode="decimal"
              value={rollout}
              aria-invalid={!!rolloutProblem}
              aria-describedby="flag-rollout-error"
              onChange={(e) => setRollout(e.target.value)}
            />
          </div>
          <p id="flag-rollout-error" className="field-error" role="alert">
            {rolloutProblem}
          </p>
          <label htmlFor="flag-whitelist">
            Allow list: user ids always let in (commas, spaces or lines between them)
          </label>
          <textarea id="flag-whitelist" rows={2} value={allow} onChange={(e) => setAllow(e.target.value)} />
          <label htmlFor="flag-blacklist">Deny list: user ids never let in</label>
          <textarea id="flag-blacklist" rows={2} value={deny} onChange={(e) => setDeny(e.target.value)} />
          <label htmlFor="flag-description">Description</label>
          <input
            id="flag-description"
            maxLength={500}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
          />
          <button type="submit" className="primary" disabled={!!rolloutProblem}>
            Save flag
          </button>
          <p role="status" id="flag-result" className={result?.error ? 'error' : 'quiet'}>
            {result?.text}
          </p>
        </fieldset>
      </form>
      <Confirm
        open={confirming}
        title="Let fewer users in?"
        yes="Save"
        onYes={() => void save()}
        onNo={() => setConfirming(false)}
      >
        <p>
          {enabled
            ? `The rollout goes down from ${flag.data?.rollout} % to ${body.rollout} %: some users lose the feature now.`
            : 'The feature goes off for everyone now, allow list included.'}
        </p>
      </Confirm>
      <form onSubmit={(e) => void evaluate(e)} className="row wrap">
        <label htmlFor="probe">Check a user</label>
        <input id="probe" value={probe} maxLength={255} onChange={(e) => setProbe(e.target.value)} />
        <button type="submit">Check</button>
        <span role="status">{probeResult}</span>
      </form>
    </div>
  );
}

const pct = (name: string, v: number | null | undefined) =>
  v === null || v === undefined
    ? '—'
    : name === 'p95LatencyMs'
      ? `${Math.round(v)} ms`
      : `${(v * 100).toFixed(1)} %`;

function RolloutPlan({ client, name }: { client: BatchClient; name: string }) {
  const queryClient = useQueryClient();
  const plan = useQuery({
    queryKey: ['plan', name],
    queryFn: () =>
      client.getRolloutPlan(name).catch((error: unknown) => {
        if (error instanceof ApiError && error.code === 'NOT_FOUND') return null;
        throw error;
      }),
    // Transitions are pushed (below); polling only catches what a dropped socket missed.
    refetchInterval: 5000,
  });
  const [result, setResult] = useState('');
  const [pushed, setPushed] = useState('');
  useEffect(
    () =>
      client.watchFlagRollouts((event) => {
        if (event.flag !== name) return;
        setPushed(
          `${new Date(event.at).toLocaleTimeString()}: ${event.action.replace(/_/g, ' ')} to step ${event.step + 1} (${event.rollout} %)${event.reason ? `, ${event.reason}` : ''}`,
        );
        refreshFlag(queryClient, name);
      }),
    [client, name, queryClient],
  );
  const [abort, setAbort] = useState(false);
  const [draft, setDraft] = useState(
    JSON.stringify(
      {
        steps: [{ whitelistOnly: true }, { rollout: 5 }, { rollout: 25 }, { rollout: 50 }, { rollout: 100 }],
        minStepSeconds: 600,
        guards: {
          itemFailureRate: { max: 0.05, minSamples: 50 },
          serverErrorRate: { max: 0.01, minSamples: 50 },
        },
        onBreach: 'previous',
      },
      null,
      2,
    ),
  );
  const draftProblem = (() => {
    try {
      const value = JSON.parse(draft) as { steps?: unknown };
      return Array.isArray(value.steps) && value.steps.length > 0
        ? null
        : 'A plan needs "steps": a list of at least one step.';
    } catch (error) {
      return `Not valid JSON: ${(error as Error).message}.`;
    }
  })();
  const run = async (what: string, action: () => Promise<unknown>) => {
    try {
      await action();
      setResult(what);
      refreshFlag(queryClient, name);
    } catch (error) {
      setResult(refusalOf(error));
    }
  };
  const p: RolloutPlanView | null | undefined = plan.data;
  const live = p && (p.state === 'active' || p.state === 'paused' || p.state === 'halted');
  return (
    <div className="card" aria-labelledby="plan-title">
      <h3 id="plan-title">Rollout plan</h3>
      <p role="status" id="plan-pushed" className="quiet">
        {pushed && `Last change, pushed live: ${pushed}.`}
      </p>
      {p ? (
        <>
          <p id="plan-summary">
            {`Plan ${PLAN_STATES[p.state] ?? p.state}, step ${p.step + 1} of ${p.steps.length} (${p.rollout} %), since ${new Date(p.stepStartedAt).toLocaleTimeString()}; next step no sooner than ${new Date(p.stepMinEndsAt).toLocaleTimeString()}.`}
          </p>
          <ol className="steps" id="plan-steps">
            {p.steps.map((s, i) => (
              <li key={i} aria-current={i === p.step ? 'step' : undefined}>
                {s.whitelistOnly ? 'Allow list only' : `${String(s.rollout)} %`} · at least{' '}
                {p.minStepSeconds[i]} s
              </li>
            ))}
          </ol>
          <div className="table-wrap">
            <table id="plan-guards">
              <caption>Guards, on the users the flag lets in since this step began</caption>
              <thead>
                <tr>
                  <th scope="col">Guard</th>
                  <th scope="col">Value</th>
                  <th scope="col">Threshold</th>
                  <th scope="col">Samples</th>
                  <th scope="col">Everyone else</th>
                  <th scope="col">State</th>
                </tr>
              </thead>
              <tbody>
                {Object.entries(p.guards).map(([g, v]) => (
                  <tr key={g} className={`guard-${v.status}`}>
                    <td>{GUARD_LABELS[g] ?? g}</td>
                    <td>{pct(g, v.value)}</td>
                    <td>≤ {pct(g, v.max)}</td>
                    <td>
                      {v.samples} ({v.minSamples} needed)
                    </td>
                    <td>{pct(g, v.rest.value)}</td>
                    <td>
                      {v.status === 'ok' ? 'holds' : v.status === 'breached' ? 'breached' : 'too few samples'}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="row wrap">
            {p.state === 'active' && (
              <button
                type="button"
                onClick={() => void run('Plan paused.', () => client.rolloutPlanAction(name, 'pause'))}
              >
                Pause plan
              </button>
            )}
            {(p.state === 'paused' || p.state === 'halted') && (
              <button
                type="button"
                onClick={() => void run('Plan resumed.', () => client.rolloutPlanAction(name, 'resume'))}
              >
                Resume plan
              </button>
            )}
            {live && (
              <button type="button" className="danger" onClick={() => setAbort(true)}>
                Abort plan
              </button>
            )}
          </div>
          <h4>History</h4>
          <ol reversed id="plan-history">
            {[...p.history].reverse().map((h) => (
              <li key={h.n}>
                {`${new Date(h.at).toLocaleTimeString()} · ${h.action.replace(/_/g, ' ')} · step ${h.step + 1} (${h.enabled ? `${h.rollout} %` : 'off'}) · ${h.actor}${h.reason ? ` · ${h.reason}` : ''}`}
              </li>
            ))}
          </ol>
        </>
      ) : (
        <p id="plan-summary">{plan.isError ? problemOf(plan.error) : 'No rollout plan.'}</p>
      )}
      <Confirm
        open={abort}
        title="Abort the rollout plan?"
        yes="Abort plan"
        onNo={() => setAbort(false)}
        onYes={() => {
          setAbort(false);
          void run('Plan aborted.', () => client.rolloutPlanAction(name, 'abort'));
        }}
      >
        <p>The flag stays as it is now; the plan takes no more steps.</p>
      </Confirm>
      {!live && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (!draftProblem)
              void run('Plan started.', () => client.putRolloutPlan(name, JSON.parse(draft)));
          }}
          noValidate
        >
          <label htmlFor="plan-json">New plan (JSON: steps, minStepSeconds, guards, onBreach)</label>
          <textarea
            id="plan-json"
            rows={10}
            spellCheck={false}
            value={draft}
            aria-describedby="plan-json-error"
            onChange={(e) => setDraft(e.target.value)}
          />
          <p id="plan-json-error" className="field-error" role="alert">
            {draftProblem}
          </p>
          <button type="submit" disabled={!!draftProblem}>
            Start plan
          </button>
        </form>
      )}
      <p role="status" id="plan-result">
        {result}
      </p>
    </div>
  );
}

type AuditEntry = AuditTrail['data'][number];

/** What an audit entry changed, in words (allow and deny list edits included). */
export function changeOf(entry: AuditEntry): string {
  const { before, after } = entry;
  if (!after) return 'deleted the flag';
  if (entry.action.startsWith('rollout-plan.')) {
    const plan = after.rolloutPlan as { reason?: string } | undefined;
    return `plan ${entry.action.slice('rollout-plan.'.length).replace(/_/g, ' ')}: ${after.enabled ? `${after.rollout} %` : 'off'}${plan?.reason ? ` (${plan.reason})` : ''}`;
  }
  if (!before) return `created: ${after.enabled ? `on, ${after.rollout} %` : 'off'}`;
  const parts: string[] = [];
  if (before.enabled !== after.enabled) parts.push(after.enabled ? 'switched on' : 'switched off');
  if (before.rollout !== after.rollout) parts.push(`rollout ${before.rollout} % → ${after.rollout} %`);
  const diff = (label: string, a: string[], b: string[]) => {
    const added = b.filter((x) => !a.includes(x));
    const removed = a.filter((x) => !b.includes(x));
    if (added.length) parts.push(`${label} + ${added.join(', ')}`);
    if (removed.length) parts.push(`${label} − ${removed.join(', ')}`);
  };
  diff('allow list', before.whitelist, after.whitelist);
  diff('deny list', before.blacklist, after.blacklist);
  if (before.description !== after.description) parts.push('description changed');
  return parts.length ? parts.join('; ') : 'saved without changes';
}

function Audit({ client, name }: { client: BatchClient; name: string }) {
  const audit = useQuery({ queryKey: ['audit', name], queryFn: () => client.flagAudit(name), retry: false });
  const [all, setAll] = useState(false);
  const entries = audit.data?.data ?? [];
  return (
    <div className="card">
      <h3>Audit trail</h3>
      {entries.length === 0 ? (
        <p className="empty">No changes recorded.</p>
      ) : (
        <ol className="audit" id="flag-audit">
          {(all ? entries : entries.slice(0, 15)).map((e, i) => (
            <li key={i}>
              <time dateTime={e.createdAt}>{new Date(e.createdAt).toLocaleString()}</time> ·{' '}
              <strong>{e.actor}</strong> · {changeOf(e)}
            </li>
          ))}
        </ol>
      )}
      {entries.length > 15 && (
        <button type="button" className="link" onClick={() => setAll(!all)}>
          {all ? 'Show the latest 15' : `Show all ${entries.length}`}
        </button>
      )}
    </div>
  );
}
