import { useEffect, useId, useState, type FormEvent } from 'react';
import { createDevToken, listDemoMembers } from '@resident-messaging/client';
import { API_BASE_URL } from './config';
import { errorMessage } from './errors';
import { usePageFocus } from './usePageFocus';

type DemoMember = Awaited<ReturnType<typeof listDemoMembers>>[number];

type Directory =
  { state: 'loading' } | { state: 'ready'; members: DemoMember[] } | { state: 'unavailable' };

const ROLE_LABELS: Record<string, string> = {
  resident: 'Resident',
  manager: 'Manager',
  org_admin: 'Administrator',
};

export function SignIn(props: { onSignIn: (token: string) => void; notice?: string | null }) {
  const [directory, setDirectory] = useState<Directory>({ state: 'loading' });
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const heading = usePageFocus<HTMLHeadingElement>();

  useEffect(() => {
    let live = true;
    listDemoMembers(API_BASE_URL).then(
      (members) => live && setDirectory({ state: 'ready', members }),
      () => live && setDirectory({ state: 'unavailable' }),
    );
    return () => {
      live = false;
    };
  }, []);

  const signInAs = async (member: DemoMember) => {
    setBusy(member.userId);
    setError(null);
    try {
      const { token } = await createDevToken(API_BASE_URL, member.userId);
      props.onSignIn(token);
    } catch (e) {
      setError(errorMessage(e));
      setBusy(null);
    }
  };

  return (
    <main className="sign-in">
      <div className="panel">
        <h1 ref={heading} tabIndex={-1}>
          Sign in
        </h1>
        {props.notice && (
          <p role="status" className="notice">
            {props.notice}
          </p>
        )}
        {directory.state === 'loading' && <p className="muted">Loading…</p>}
        {directory.state === 'ready' && (
          <>
            <p>Development mode: choose a demo member to sign in as.</p>
            {directory.members.length === 0 ? (
              <p className="muted">There are no demo members.</p>
            ) : (
              <ul className="member-list" aria-label="Demo members">
                {directory.members.map((member) => (
                  <li key={member.userId}>
                    <button
                      type="button"
                      className="button member-button"
                      aria-describedby={`role-${member.userId}`}
                      disabled={busy !== null}
                      onClick={() => void signInAs(member)}
                    >
                      {member.displayName}
                    </button>
                    <span id={`role-${member.userId}`} className="muted">
                      {ROLE_LABELS[member.role] ?? member.role}
                      {busy === member.userId ? ' · signing in…' : ''}
                    </span>
                  </li>
                ))}
              </ul>
            )}
          </>
        )}
        {directory.state === 'unavailable' && <TokenForm onSignIn={props.onSignIn} />}
        {error && (
          <p role="alert" className="inline-error">
            {error}
          </p>
        )}
      </div>
    </main>
  );
}

function TokenForm(props: { onSignIn: (token: string) => void }) {
  const id = useId();
  const [token, setToken] = useState('');
  const [invalid, setInvalid] = useState(false);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const value = token.trim().replace(/^Bearer\s+/i, '');
    if (!value) {
      setInvalid(true);
      return;
    }
    props.onSignIn(value);
  };

  return (
    <>
      <p>Development sign-in is unavailable. Paste an access token to sign in.</p>
      <form className="stack" onSubmit={submit} noValidate>
        <label htmlFor={`${id}-token`}>Token</label>
        <textarea
          id={`${id}-token`}
          className="input"
          rows={4}
          value={token}
          spellCheck={false}
          autoComplete="off"
          aria-invalid={invalid || undefined}
          aria-describedby={invalid ? `${id}-error` : undefined}
          onChange={(event) => {
            setToken(event.target.value);
            setInvalid(false);
          }}
        />
        {invalid && (
          <p id={`${id}-error`} className="field-error">
            Paste a token first.
          </p>
        )}
        <div>
          <button type="submit" className="button">
            Sign in
          </button>
        </div>
      </form>
    </>
  );
}
