import { closeDom } from './dom';
import { QueryClient } from '@tanstack/react-query';
import { act, renderHook, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import {
  createMessagingClient,
  MessagingProvider,
  messagesOf,
  ProblemError,
  threadsOf,
  useBlockedUsers,
  useBlockUser,
  useMessages,
  useMessagingEvents,
  useSendMessage,
  useThreads,
  useUnblockUser,
  useUnreadCount,
  type MessagingClient,
} from '../src/react.js';
import { listen } from '../../../test/support/sse';
import {
  startTestApp,
  UNTHROTTLED,
  type Member,
  type TestApp,
} from '../../../test/support/test-app';

/** The React hooks against the real service, rendered in jsdom. */
describe('@resident-messaging/client/react', () => {
  let t: TestApp;
  let baseUrl: string;
  const clients: QueryClient[] = [];

  beforeAll(async () => {
    t = await startTestApp({ ...UNTHROTTLED, WORKER_ENABLED: 'true' });
    baseUrl = await listen(t);
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.clear();
  });
  afterAll(async () => {
    await t.close();
    closeDom();
  });

  /** Requests the member's client made, as "METHOD path". */
  function setup(member: Member, options: { delayPostsMs?: number } = {}) {
    const requests: string[] = [];
    const counting: typeof fetch = async (input, init) => {
      const method = input instanceof Request ? input.method : (init?.method ?? 'GET');
      const url = new URL(input instanceof Request ? input.url : String(input));
      requests.push(`${method} ${url.pathname}`);
      if (options.delayPostsMs && method === 'POST') {
        await new Promise((r) => setTimeout(r, options.delayPostsMs));
      }
      return fetch(input, init);
    };
    const client: MessagingClient = createMessagingClient({
      baseUrl,
      getToken: () => member.token,
      fetch: counting,
    });
    const queryClient = new QueryClient({
      defaultOptions: { queries: { retry: false, staleTime: Infinity } },
    });
    clients.push(queryClient);
    const wrapper = ({ children }: { children: ReactNode }) => (
      <MessagingProvider client={client} queryClient={queryClient}>
        {children}
      </MessagingProvider>
    );
    return { client, queryClient, wrapper, requests };
  }

  async function conversation() {
    const org = t.createOrg();
    const alice = await t.createMember(org, { displayName: 'Alice Martin' });
    const bob = await t.createMember(org, { displayName: 'Bob Stone' });
    const plain = createMessagingClient({ baseUrl, getToken: () => alice.token });
    const started = await plain.startThread({ recipientId: bob.userId, body: 'first' });
    return { alice, bob, threadId: started.thread.id, aliceClient: plain };
  }

  it('shows a send at once, then the stored message; a refused send is taken back with its problem', async () => {
    const { alice, threadId } = await conversation();
    const { wrapper } = setup(alice, { delayPostsMs: 300 });
    const { result } = renderHook(
      () => ({
        messages: useMessages(threadId),
        threads: useThreads(),
        send: useSendMessage(threadId),
      }),
      { wrapper },
    );
    await waitFor(() => expect(result.current.messages.isSuccess).toBe(true));
    await waitFor(() => expect(result.current.threads.isSuccess).toBe(true));

    act(() => result.current.send.mutate({ body: 'on its way' }));
    // Before the server answered: pending, last in the thread and the thread's last message.
    await waitFor(() =>
      expect(messagesOf(result.current.messages.data).map((m) => [m.body, !!m.pending])).toEqual([
        ['first', false],
        ['on its way', true],
      ]),
    );
    expect(threadsOf(result.current.threads.data)[0].lastMessage?.body).toBe('on its way');
    await waitFor(() => expect(result.current.send.isSuccess).toBe(true));
    const stored = messagesOf(result.current.messages.data);
    expect(stored.map((m) => [m.body, !!m.pending, m.seq])).toEqual([
      ['first', false, 1],
      ['on its way', false, 2],
    ]);
    expect(stored[1].clientMessageId).toBe(result.current.send.variables?.clientMessageId);

    // An empty body is refused (400): the optimistic message goes again, the problem stays.
    act(() => result.current.send.mutate({ body: '' }));
    await waitFor(() => expect(result.current.send.isError).toBe(true));
    expect(result.current.send.error).toBeInstanceOf(ProblemError);
    expect((result.current.send.error as ProblemError).status).toBe(400);
    expect(messagesOf(result.current.messages.data).map((m) => m.body)).toEqual([
      'first',
      'on its way',
    ]);
    expect(threadsOf(result.current.threads.data)[0].lastMessage?.body).toBe('on its way');
  });

  it('writes events from the stream into the cache without refetching', async () => {
    const { bob, threadId, aliceClient } = await conversation();
    const { wrapper, requests } = setup(bob);
    const { result } = renderHook(
      () => {
        useMessagingEvents();
        return { messages: useMessages(threadId), unread: useUnreadCount() };
      },
      { wrapper },
    );
    await waitFor(() => expect(result.current.messages.isSuccess).toBe(true));
    await waitFor(() => expect(result.current.unread.data).toEqual({ total: 1, threads: 1 }));
    // The stream is open (its opening count arrived) before Alice writes.
    await waitFor(() => expect(requests).toContain('GET /api/v1/events'));
    // (Stream events update React state: inside act, as in a browser's event loop.)
    await act(() => new Promise((r) => setTimeout(r, 300)));
    const fetchedBefore = requests.filter((r) => r !== 'GET /api/v1/events').length;

    const sent = await act(() => aliceClient.sendMessage(threadId, { body: 'live' }));
    await waitFor(() =>
      expect(messagesOf(result.current.messages.data).map((m) => m.body)).toEqual([
        'first',
        'live',
      ]),
    );
    expect(messagesOf(result.current.messages.data)[1].id).toBe(sent.id);
    await waitFor(() => expect(result.current.unread.data).toEqual({ total: 2, threads: 1 }));
    // Nothing was fetched again: the event itself updated the cache.
    expect(requests.filter((r) => r !== 'GET /api/v1/events').length).toBe(fetchedBefore);
  });

  it('refetches the blocked list after a block and an unblock', async () => {
    const { alice, bob } = await conversation();
    const { wrapper } = setup(alice);
    const { result } = renderHook(
      () => ({ blocked: useBlockedUsers(), block: useBlockUser(), unblock: useUnblockUser() }),
      { wrapper },
    );
    await waitFor(() => expect(result.current.blocked.data?.data).toEqual([]));
    await act(() => result.current.block.mutateAsync(bob.userId));
    await waitFor(() =>
      expect(result.current.blocked.data?.data.map((b) => b.user.displayName)).toEqual([
        'Bob Stone',
      ]),
    );
    await act(() => result.current.unblock.mutateAsync(bob.userId));
    await waitFor(() => expect(result.current.blocked.data?.data).toEqual([]));
  });
});
