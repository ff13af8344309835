import { useCallback, useRef, useState } from 'react';
import { MutationCache, QueryCache, QueryClient } from '@tanstack/react-query';
import { createMessagingClient, ProblemError } from '@resident-messaging/client';
import { MessagingProvider } from '@resident-messaging/client/react';
import { API_BASE_URL, readToken, writeToken } from './config';
import { SignIn } from './SignIn';
import { Layout } from './Layout';
import { ErrorBoundary } from './ErrorBoundary';
import { ConversationsPage } from './ConversationsPage';
import { ThreadView } from './ThreadView';
import { BlockedUsersPage } from './BlockedUsersPage';
import { routeKey, useRoute, type Route } from './routing';

const SESSION_ENDED = 'Your session has ended. Please sign in again.';

export function App() {
  const [token, setToken] = useState<string | null>(readToken);
  const [notice, setNotice] = useState<string | null>(null);

  const signIn = useCallback((next: string) => {
    writeToken(next);
    setNotice(null);
    setToken(next);
  }, []);

  const signOut = useCallback((reason?: string) => {
    writeToken(null);
    setNotice(reason ?? null);
    setToken(null);
  }, []);

  if (!token) return <SignIn onSignIn={signIn} notice={notice} />;
  // A new token is a new member: a fresh client and cache.
  return <SignedIn key={token} token={token} onSignOut={signOut} />;
}

function isUnauthorized(error: unknown): boolean {
  return error instanceof ProblemError && error.status === 401;
}

function SignedIn(props: { token: string; onSignOut: (reason?: string) => void }) {
  const onSignOut = useRef(props.onSignOut);
  onSignOut.current = props.onSignOut;

  const [{ client, queryClient }] = useState(() => {
    const token = props.token;
    const endSession = (error: unknown) => {
      if (isUnauthorized(error)) onSignOut.current(SESSION_ENDED);
    };
    return {
      client: createMessagingClient({ baseUrl: API_BASE_URL, getToken: () => token }),
      queryClient: new QueryClient({
        queryCache: new QueryCache({ onError: endSession }),
        mutationCache: new MutationCache({ onError: endSession }),
        defaultOptions: {
          queries: {
            // A 4xx answer will not change by asking again; network and 5xx failures may.
            retry: (failures, error) =>
              !(error instanceof ProblemError && error.status < 500) && failures < 2,
          },
        },
      }),
    };
  });

  const route = useRoute();

  return (
    <MessagingProvider client={client} queryClient={queryClient}>
      <Layout route={route} onSignOut={() => props.onSignOut()}>
        <ErrorBoundary key={routeKey(route)}>
          <Page route={route} />
        </ErrorBoundary>
      </Layout>
    </MessagingProvider>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.name) {
    case 'conversations':
      return <ConversationsPage />;
    case 'thread':
      return <ThreadView key={route.threadId} threadId={route.threadId} />;
    case 'blocked':
      return <BlockedUsersPage />;
  }
}
