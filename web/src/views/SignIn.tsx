import { type FormEvent, useEffect, useState } from 'react';
import { type Session, sessionOf } from '../session';

/** A bearer token (hidden as typed), or the development login when the server offers it. */
export function SignIn({ onSignIn }: { onSignIn: (session: Session) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  const [devLogin, setDevLogin] = useState(false);
  const [devUser, setDevUser] = useState('demo-user');
  const [devAdmin, setDevAdmin] = useState(false);
  useEffect(() => {
    fetch('/app-config')
      .then((r) => r.json())
      .then((cfg: { devLogin?: boolean }) => setDevLogin(cfg.devLogin === true))
      .catch(() => undefined);
  }, []);
  const useToken = (e: FormEvent) => {
    e.preventDefault();
    const session = sessionOf(token);
    if (!session)
      return setError('That is not a token: paste the whole output of npm run token -- <userId>.');
    if (session.expiresAt !== null && session.expiresAt <= Date.now())
      return setError('That token has expired.');
    onSignIn(session);
  };
  const login = async (e: FormEvent) => {
    e.preventDefault();
    setError('');
    const res = await fetch('/auth/dev-login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ userId: devUser.trim(), admin: devAdmin }),
    }).catch(() => null);
    const data = (await res?.json().catch(() => null)) as { token?: string; message?: string } | null;
    const session = data?.token ? sessionOf(data.token) : null;
    if (!res?.ok || !session) return setError(data?.message ?? 'The server did not sign you in.');
    onSignIn(session);
  };
  return (
    <section aria-labelledby="signin-title" className="card narrow">
      <h2 id="signin-title">Sign in</h2>
      <form onSubmit={useToken} noValidate>
        <label htmlFor="token">Bearer token</label>
        <input
          id="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={token}
          aria-describedby="token-help"
          onChange={(e) => setToken(e.target.value)}
        />
        <p id="token-help" className="help">
          From <code>npm run token -- &lt;userId&gt;</code>; kept in this browser until you sign out.
        </p>
        <button type="submit">Use token</button>
      </form>
      {devLogin && (
        <form onSubmit={(e) => void login(e)} className="dev-login">
          <h3>Development login</h3>
          <label htmlFor="dev-user">User id</label>
          <input id="dev-user" value={devUser} maxLength={64} onChange={(e) => setDevUser(e.target.value)} />
          <label className="inline">
            <input type="checkbox" checked={devAdmin} onChange={(e) => setDevAdmin(e.target.checked)} /> admin
          </label>
          <button type="submit">Dev login</button>
        </form>
      )}
      <p role="alert" className="error">
        {error}
      </p>
    </section>
  );
}
