import { QueryClient, QueryClientProvider, useQuery, useQueryClient } from '@tanstack/react-query';
import { StrictMode, useEffect, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { BatchClient } from '../../client/src/index';
import { useBatches } from '../../client/src/react';
import { href, useRoute } from './route';
import { type Session, storedSession, storeSession } from './session';
import { BatchDetails } from './views/BatchDetails';
import { BatchesView } from './views/Batches';
import { FlagsView } from './views/Flags';
import { NewBatch } from './views/NewBatch';
import { PapersView } from './views/Papers';
import { SignIn } from './views/SignIn';
import { reasonWord } from './words';

const queries = new QueryClient({
  defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: false, staleTime: 1000 } },
});

function App() {
  const [session, setSession] = useState<Session | null>(storedSession);
  const queryClient = useQueryClient();
  const client = useMemo(
    () => (session ? new BatchClient({ baseUrl: location.origin, token: session.token }) : null),
    [session],
  );
  useEffect(() => () => client?.close(), [client]);
  const signIn = (next: Session | null) => {
    // Nothing of the previous user stays on screen or in the cache.
    queryClient.clear();
    storeSession(next);
    setSession(next);
  };
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header>
        <h1>
          <a href={href('batches')}>Batch operations</a>
        </h1>
        {session && client ? (
          <>
            <Nav session={session} />
            <p className="who">
              Signed in as <strong>{session.userId}</strong>
              {session.admin ? ' (admin)' : ''}{' '}
              <button type="button" className="link" onClick={() => signIn(null)}>
                Sign out
              </button>
            </p>
            <ConnectionLine client={client} />
          </>
        ) : null}
      </header>
      <main id="main">
        {session && client ? (
          <SignedIn client={client} session={session} onExpired={() => signIn(null)} />
        ) : (
          <SignIn onSignIn={signIn} />
        )}
      </main>
    </>
  );
}

function Nav({ session }: { session: Session }) {
  const route = useRoute();
  const link = (view: string, path: string, label: string) => (
    <a
      href={href(path)}
      aria-current={
        route.view === view || (view === 'batches' && route.view === 'batch') ? 'page' : undefined
      }
    >
      {label}
    </a>
  );
  return (
    <nav aria-label="Views">
      {link('batches', 'batches', 'Batches')}
      {link('new', 'new', 'New batch')}
      {link('papers', 'papers', 'Papers')}
      {session.admin && link('flags', 'flags', 'Feature flags')}
    </nav>
  );
}

/** Says when live updates are down and since when; gone when the socket is back. */
function ConnectionLine({ client }: { client: BatchClient }) {
  const { connection } = useBatches(client);
  const stale = connection.state === 'reconnecting';
  useEffect(() => {
    document.body.classList.toggle('stale', stale);
    return () => document.body.classList.remove('stale');
  }, [stale]);
  return (
    <p id="connection" role="status" aria-live="polite" className={stale ? 'warning' : 'quiet'}>
      {stale && connection.staleSince
        ? `Live updates paused since ${new Date(connection.staleSince).toLocaleTimeString()}: what you see may be out of date. Reconnecting…`
        : connection.state === 'unauthorized'
          ? 'Live updates refused: sign in again.'
          : connection.state === 'live'
            ? 'Live'
            : ''}
    </p>
  );
}

function SignedIn({
  client,
  session,
  onExpired,
}: {
  client: BatchClient;
  session: Session;
  onExpired: () => void;
}) {
  const route = useRoute();
  const features = useQuery({ queryKey: ['features'], queryFn: () => client.myFeatures() });
  useEffect(() => {
    if (session.expiresAt === null) return;
    const timer = setTimeout(onExpired, Math.max(0, session.expiresAt - Date.now()));
    return () => clearTimeout(timer);
  }, [session, onExpired]);
  const feature = features.data?.BATCH_OPERATIONS;
  const on = feature?.enabled === true;
  return (
    <>
      <p id="feature" role="status" className={feature && !on ? 'warning' : 'quiet'}>
        {feature
          ? on
            ? `Batch operations are on for you (${reasonWord(feature.reason)}).`
            : `Batch operations are off for you (${reasonWord(feature.reason)}). Ask an admin to let you in.`
          : features.isError
            ? 'Could not check your features.'
            : ''}
      </p>
      {route.view === 'flags' ? (
        session.admin ? (
          <FlagsView client={client} route={route} />
        ) : (
          <p role="alert">Feature flags are for admins.</p>
        )
      ) : route.view === 'papers' ? (
        <PapersView client={client} enabled={on} />
      ) : !on && feature ? null : route.view === 'new' ? (
        <NewBatch client={client} route={route} />
      ) : route.view === 'batch' && route.id ? (
        <BatchDetails key={route.id} client={client} id={route.id} route={route} session={session} />
      ) : (
        <BatchesView client={client} route={route} session={session} />
      )}
    </>
  );
}

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <QueryClientProvider client={queries}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
