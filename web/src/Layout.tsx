import { useEffect, useMemo, type ReactNode } from 'react';
import { useMe, useMessagingEvents, useUnreadCount } from '@resident-messaging/client/react';
import { paths, type Route } from './routing';
import { SessionContext } from './session';
import { QueryError } from './QueryError';

export function Layout(props: { route: Route; onSignOut: () => void; children: ReactNode }) {
  const { route, onSignOut } = props;
  // One live event stream for the signed-in member: messages, receipts and counts arrive here.
  useMessagingEvents();
  const me = useMe();
  const unread = useUnreadCount();
  const total = unread.data?.total ?? 0;
  const inMessages = route.name === 'conversations' || route.name === 'thread';

  useEffect(() => {
    const page = {
      conversations: 'Conversations',
      thread: 'Conversation',
      blocked: 'Blocked users',
    };
    document.title = `${total > 0 ? `(${total}) ` : ''}${page[route.name]} – Resident Messaging`;
  }, [route.name, total]);

  const session = useMemo(
    () => (me.data ? { me: me.data, signOut: onSignOut } : null),
    [me.data, onSignOut],
  );

  return (
    <div className={`app ${route.name === 'thread' ? 'app-thread' : ''}`}>
      <header className="app-header">
        <nav aria-label="Main" className="main-nav">
          <p className="brand">Resident Messaging</p>
          <ul className="nav-links">
            <li>
              <a href={paths.conversations()} aria-current={inMessages ? 'page' : undefined}>
                Messages
                {total > 0 && (
                  <>
                    {' '}
                    <span className="badge" aria-label={`${total} unread`}>
                      {total}
                    </span>
                  </>
                )}
              </a>
            </li>
            <li>
              <a
                href={paths.blocked()}
                aria-current={route.name === 'blocked' ? 'page' : undefined}
              >
                Blocked users
              </a>
            </li>
          </ul>
          <div className="account">
            {me.data && <span className="account-name">{me.data.displayName}</span>}
            <button type="button" className="button secondary small" onClick={onSignOut}>
              Sign out
            </button>
          </div>
        </nav>
      </header>
      <main className="app-main">
        {session ? (
          <SessionContext.Provider value={session}>{props.children}</SessionContext.Provider>
        ) : me.isError ? (
          <div className="page">
            <QueryError
              what="Could not load your account"
              error={me.error}
              onRetry={() => void me.refetch()}
            />
          </div>
        ) : (
          <p className="page muted" role="status">
            Loading…
          </p>
        )}
      </main>
    </div>
  );
}
