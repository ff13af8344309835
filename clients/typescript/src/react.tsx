import {
  QueryClientProvider,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
  type InfiniteData,
  type QueryClient,
} from '@tanstack/react-query';
import { createContext, useContext, useEffect, useRef, type ReactNode } from 'react';
import {
  newClientMessageId,
  ProblemError,
  type Membership,
  type Message,
  type MessagePage,
  type MessagingClient,
  type Notification,
  type NotificationPage,
  type StreamEvent,
  type Thread,
  type ThreadPage,
  type ThreadView,
  type UnreadCount,
} from './index.js';

export * from './index.js';

/** The query keys the hooks use, for apps that read or extend the cache. */
export const messagingKeys = {
  all: ['messaging'] as const,
  me: () => [...messagingKeys.all, 'me'] as const,
  threads: () => [...messagingKeys.all, 'threads'] as const,
  thread: (threadId: string) => [...messagingKeys.all, 'thread', threadId] as const,
  messages: (threadId: string) => [...messagingKeys.all, 'messages', threadId] as const,
  unreadCount: () => [...messagingKeys.all, 'unread-count'] as const,
  recipients: (q: string) => [...messagingKeys.all, 'recipients', q] as const,
  blockedUsers: () => [...messagingKeys.all, 'blocked-users'] as const,
  notifications: () => [...messagingKeys.all, 'notifications'] as const,
};

interface MessagingContextValue {
  client: MessagingClient;
  /** One event stream per provider, however many components ask for it. */
  stream: { users: number; stop?: () => void };
}

const MessagingContext = createContext<MessagingContextValue | null>(null);

/** Provides the client (and a QueryClient) to the hooks below it. */
export function MessagingProvider(props: {
  client: MessagingClient;
  queryClient: QueryClient;
  children: ReactNode;
}) {
  const value = useRef<MessagingContextValue | null>(null);
  if (!value.current || value.current.client !== props.client) {
    value.current = { client: props.client, stream: { users: 0 } };
  }
  return (
    <QueryClientProvider client={props.queryClient}>
      <MessagingContext.Provider value={value.current}>{props.children}</MessagingContext.Provider>
    </QueryClientProvider>
  );
}

function useMessagingContext(): MessagingContextValue {
  const context = useContext(MessagingContext);
  if (!context) throw new Error('Messaging hooks need a <MessagingProvider> above them.');
  return context;
}

export function useMessagingClient(): MessagingClient {
  return useMessagingContext().client;
}

/** A message as the hooks keep it: `pending` while an optimistic send is on its way. */
export type CachedMessage = Message & { pending?: boolean };
type MessagePages = InfiniteData<
  Omit<MessagePage, 'data'> & { data: CachedMessage[] },
  string | undefined
>;
type ThreadPages = InfiniteData<ThreadPage, string | undefined>;

/** The messages of an infinite message query, oldest first. */
export function messagesOf(data: MessagePages | undefined): CachedMessage[] {
  if (!data) return [];
  return [...data.pages].reverse().flatMap((page) => page.data);
}

/** The threads of an infinite thread query, newest activity first. */
export function threadsOf(data: ThreadPages | undefined): Thread[] {
  return data?.pages.flatMap((page) => page.data) ?? [];
}

export function useMe() {
  const client = useMessagingClient();
  return useQuery<Membership, ProblemError>({
    queryKey: messagingKeys.me(),
    queryFn: () => client.getMe(),
    staleTime: 60_000,
  });
}

/** My threads, newest activity first; `fetchNextPage` loads more (`threadsOf(data)` flattens). */
export function useThreads(options: { limit?: number } = {}) {
  const client = useMessagingClient();
  return useInfiniteQuery<
    ThreadPage,
    ProblemError,
    ThreadPages,
    readonly unknown[],
    string | undefined
  >({
    queryKey: messagingKeys.threads(),
    queryFn: ({ pageParam }) => client.listThreads({ limit: options.limit, cursor: pageParam }),
    initialPageParam: undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
}

export function useThread(threadId: string | undefined) {
  const client = useMessagingClient();
  return useQuery<ThreadView, ProblemError>({
    queryKey: messagingKeys.thread(threadId ?? ''),
    queryFn: () => client.getThread(threadId!),
    enabled: !!threadId,
  });
}

/**
 * The messages of a thread as an infinite query: the first page is the latest, `fetchNextPage`
 * loads older ones (`before`). `messagesOf(data)` gives them oldest first.
 */
export function useMessages(threadId: string | undefined, options: { limit?: number } = {}) {
  const client = useMessagingClient();
  return useInfiniteQuery<
    MessagePage,
    ProblemError,
    MessagePages,
    readonly unknown[],
    string | undefined
  >({
    queryKey: messagingKeys.messages(threadId ?? ''),
    queryFn: ({ pageParam }) =>
      client.listMessages(threadId!, { limit: options.limit, before: pageParam }),
    initialPageParam: undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    enabled: !!threadId,
  });
}

export function useUnreadCount() {
  const client = useMessagingClient();
  return useQuery<UnreadCount, ProblemError>({
    queryKey: messagingKeys.unreadCount(),
    queryFn: () => client.getUnreadCount(),
  });
}

export function useRecipients(q: string, options: { enabled?: boolean; limit?: number } = {}) {
  const client = useMessagingClient();
  return useQuery({
    queryKey: messagingKeys.recipients(q),
    queryFn: () => client.listRecipients({ q: q || undefined, limit: options.limit }),
    enabled: options.enabled ?? true,
    staleTime: 30_000,
  });
}

export function useBlockedUsers() {
  const client = useMessagingClient();
  return useQuery({
    queryKey: messagingKeys.blockedUsers(),
    queryFn: () => client.listBlockedUsers({ limit: 100 }),
  });
}

export function useNotifications() {
  const client = useMessagingClient();
  return useQuery<NotificationPage, ProblemError>({
    queryKey: messagingKeys.notifications(),
    queryFn: () => client.listNotifications(),
  });
}

/** After a block changes what I see: every list, thread and count. */
function invalidateConversations(queryClient: QueryClient) {
  return queryClient.invalidateQueries({ queryKey: messagingKeys.all });
}

export function useBlockUser() {
  const client = useMessagingClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (userId: string) => client.blockUser(userId),
    onSettled: () => invalidateConversations(queryClient),
  });
}

export function useUnblockUser() {
  const client = useMessagingClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (userId: string) => client.unblockUser(userId),
    onSettled: () => invalidateConversations(queryClient),
  });
}

export function useStartThread() {
  const client = useMessagingClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: { recipientId: string; body?: string; clientMessageId?: string }) =>
      client.startThread(body),
    onSuccess: (result) => {
      queryClient.setQueryData<ThreadPages>(messagingKeys.threads(), (data) =>
        upsertThread(data, result.thread),
      );
      void queryClient.invalidateQueries({ queryKey: messagingKeys.threads() });
    },
  });
}

export function useMarkRead(threadId: string | undefined) {
  const client = useMessagingClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: { upToMessageId?: string } = {}) => client.markRead(threadId!, body),
    onSuccess: () => {
      queryClient.setQueryData<ThreadPages>(messagingKeys.threads(), (data) =>
        mapThreads(data, (t) => (t.id === threadId ? { ...t, unreadCount: 0 } : t)),
      );
      void queryClient.invalidateQueries({ queryKey: messagingKeys.unreadCount() });
    },
  });
}

export interface SendVariables {
  body: string;
  /** Generated when absent; a retry of the same variables reuses it (never a duplicate). */
  clientMessageId?: string;
}

/**
 * Sends optimistically: the message shows at once (`pending: true`) at the end of the thread and
 * as the thread's last message; on failure it is taken out again and the mutation's `error` is
 * the ProblemError. `mutate(variables)` again (`mutation.variables` holds the clientMessageId)
 * retries without any risk of a duplicate. Network failures are retried twice by itself.
 */
export function useSendMessage(threadId: string) {
  const client = useMessagingClient();
  const queryClient = useQueryClient();
  const me = useMe();
  const mutation = useMutation<
    Message,
    ProblemError | Error,
    Required<SendVariables>,
    { messages?: MessagePages; threads?: ThreadPages }
  >({
    mutationFn: (variables) => client.sendMessage(threadId, variables),
    retry: (failures, error) => !(error instanceof ProblemError) && failures < 2,
    onMutate: async (variables) => {
      await queryClient.cancelQueries({ queryKey: messagingKeys.messages(threadId) });
      const messages = queryClient.getQueryData<MessagePages>(messagingKeys.messages(threadId));
      const threads = queryClient.getQueryData<ThreadPages>(messagingKeys.threads());
      const optimistic: CachedMessage = {
        id: `pending:${variables.clientMessageId}`,
        threadId,
        seq: 0,
        sender: me.data
          ? { userId: me.data.userId, displayName: me.data.displayName, role: me.data.role }
          : { userId: '', displayName: '', role: 'resident' },
        body: variables.body,
        clientMessageId: variables.clientMessageId,
        createdAt: new Date().toISOString(),
        deleted: false,
        deletedAt: null,
        seenBy: [],
        pending: true,
      };
      queryClient.setQueryData<MessagePages>(messagingKeys.messages(threadId), (data) =>
        appendMessage(data, optimistic),
      );
      queryClient.setQueryData<ThreadPages>(messagingKeys.threads(), (data) =>
        touchThread(data, threadId, optimistic),
      );
      return { messages, threads };
    },
    onError: (_error, _variables, context) => {
      queryClient.setQueryData(messagingKeys.messages(threadId), context?.messages);
      queryClient.setQueryData(messagingKeys.threads(), context?.threads);
    },
    onSuccess: (message) => {
      queryClient.setQueryData<MessagePages>(messagingKeys.messages(threadId), (data) =>
        appendMessage(data, message),
      );
      queryClient.setQueryData<ThreadPages>(messagingKeys.threads(), (data) =>
        touchThread(data, threadId, message),
      );
    },
  });
  return {
    ...mutation,
    mutate: (variables: SendVariables, options?: Parameters<typeof mutation.mutate>[1]) =>
      mutation.mutate(
        { ...variables, clientMessageId: variables.clientMessageId ?? newClientMessageId() },
        options,
      ),
    mutateAsync: (variables: SendVariables) =>
      mutation.mutateAsync({
        ...variables,
        clientMessageId: variables.clientMessageId ?? newClientMessageId(),
      }),
  };
}

/**
 * Keeps the cache live from the event stream: new messages appended (and the optimistic copy
 * replaced), deletions as tombstones, receipts applied to my messages, unread counts replaced,
 * the thread list reordered, notifications upserted; `reset` refetches everything. One stream
 * per provider, however many components call it.
 */
export function useMessagingEvents(options: { enabled?: boolean } = {}): void {
  const { client, stream } = useMessagingContext();
  const queryClient = useQueryClient();
  const enabled = options.enabled ?? true;
  useEffect(() => {
    if (!enabled) return;
    stream.users++;
    if (stream.users === 1) {
      const controller = new AbortController();
      stream.stop = () => controller.abort();
      void (async () => {
        try {
          for await (const event of client.events({ signal: controller.signal })) {
            applyEvent(queryClient, event);
          }
        } catch (error) {
          // Refused (401/403): the app's auth handles it; nothing more to do here.
          if (!(error instanceof ProblemError)) throw error;
        }
      })();
    }
    return () => {
      stream.users--;
      if (stream.users === 0) {
        stream.stop?.();
        stream.stop = undefined;
      }
    };
  }, [client, enabled, queryClient, stream]);
}

/** Writes one stream event into the cache (exported for apps that run their own stream). */
export function applyEvent(queryClient: QueryClient, event: StreamEvent): void {
  switch (event.event) {
    case 'message.created': {
      const { threadId, message } = event.data;
      queryClient.setQueryData<MessagePages>(messagingKeys.messages(threadId), (data) =>
        appendMessage(data, message),
      );
      queryClient.setQueryData<ThreadView>(messagingKeys.thread(threadId), (view) =>
        view && !view.messages.data.some((m) => m.id === message.id)
          ? { ...view, messages: { ...view.messages, data: [...view.messages.data, message] } }
          : view,
      );
      const threads = queryClient.getQueryData<ThreadPages>(messagingKeys.threads());
      if (threads && !threadsOf(threads).some((t) => t.id === threadId)) {
        void queryClient.invalidateQueries({ queryKey: messagingKeys.threads() });
      } else {
        queryClient.setQueryData<ThreadPages>(messagingKeys.threads(), (data) =>
          touchThread(data, threadId, message),
        );
      }
      break;
    }
    case 'message.deleted': {
      const { threadId, messageId } = event.data;
      const tombstone = (m: CachedMessage): CachedMessage =>
        m.id === messageId
          ? { ...m, deleted: true, body: null, deletedAt: m.deletedAt ?? new Date().toISOString() }
          : m;
      queryClient.setQueryData<MessagePages>(messagingKeys.messages(threadId), (data) =>
        mapMessages(data, tombstone),
      );
      queryClient.setQueryData<ThreadPages>(messagingKeys.threads(), (data) =>
        mapThreads(data, (t) =>
          t.lastMessage?.id === messageId ? { ...t, lastMessage: tombstone(t.lastMessage) } : t,
        ),
      );
      break;
    }
    case 'message.read': {
      const { threadId, readerId, lastReadMessageId, readAt } = event.data;
      const pages = queryClient.getQueryData<MessagePages>(messagingKeys.messages(threadId));
      const upTo = messagesOf(pages).find((m) => m.id === lastReadMessageId)?.seq;
      if (upTo !== undefined) {
        queryClient.setQueryData<MessagePages>(messagingKeys.messages(threadId), (data) =>
          mapMessages(data, (m) =>
            m.seq <= upTo &&
            !m.pending &&
            m.sender.userId !== readerId &&
            !m.seenBy.some((s) => s.userId === readerId)
              ? { ...m, seenBy: [...m.seenBy, { userId: readerId, seenAt: readAt }] }
              : m,
          ),
        );
      } else if (pages) {
        void queryClient.invalidateQueries({ queryKey: messagingKeys.messages(threadId) });
      }
      break;
    }
    case 'unread.changed':
      queryClient.setQueryData<UnreadCount>(messagingKeys.unreadCount(), event.data);
      // Per-thread badges come with the list: refetch it in the background.
      void queryClient.invalidateQueries({
        queryKey: messagingKeys.threads(),
        refetchType: 'active',
      });
      break;
    case 'thread.created':
      queryClient.setQueryData<ThreadPages>(messagingKeys.threads(), (data) =>
        upsertThread(data, event.data.thread),
      );
      break;
    case 'notification.created': {
      const notification = event.data.notification;
      queryClient.setQueryData<NotificationPage>(messagingKeys.notifications(), (page) =>
        page ? { ...page, data: upsertNotification(page.data, notification) } : page,
      );
      break;
    }
    case 'reset':
      void queryClient.invalidateQueries({ queryKey: messagingKeys.all });
      break;
  }
}

function appendMessage(
  data: MessagePages | undefined,
  message: CachedMessage,
): MessagePages | undefined {
  if (!data?.pages.length) return data;
  // The message replaces its earlier copy: the same id, or the optimistic one of the same send.
  const pages = data.pages.map((page) => {
    const list = page.data.filter(
      (m) =>
        m.id !== message.id &&
        !(m.pending && !message.pending && m.clientMessageId === message.clientMessageId),
    );
    return list.length === page.data.length ? page : { ...page, data: list };
  });
  const [latest, ...older] = pages;
  // Kept in seq order, pending ones last.
  const merged = [...latest.data, message].sort(
    (a, b) => Number(!!a.pending) - Number(!!b.pending) || a.seq - b.seq,
  );
  return { ...data, pages: [{ ...latest, data: merged }, ...older] };
}

function mapMessages(
  data: MessagePages | undefined,
  fn: (m: CachedMessage) => CachedMessage,
): MessagePages | undefined {
  if (!data) return data;
  return { ...data, pages: data.pages.map((page) => ({ ...page, data: page.data.map(fn) })) };
}

function mapThreads(
  data: ThreadPages | undefined,
  fn: (t: Thread) => Thread,
): ThreadPages | undefined {
  if (!data) return data;
  return { ...data, pages: data.pages.map((page) => ({ ...page, data: page.data.map(fn) })) };
}

/** The thread moves to the top with `message` as its last message. */
function touchThread(
  data: ThreadPages | undefined,
  threadId: string,
  message: CachedMessage,
): ThreadPages | undefined {
  const thread = threadsOf(data).find((t) => t.id === threadId);
  if (!data || !thread) return data;
  const last: CachedMessage | null = thread.lastMessage;
  // A late answer or event does not replace a newer last message.
  if (!message.pending && last && !last.pending && last.seq > message.seq) return data;
  return upsertThread(data, { ...thread, lastMessage: message, lastMessageAt: message.createdAt });
}

function upsertThread(data: ThreadPages | undefined, thread: Thread): ThreadPages | undefined {
  if (!data?.pages.length) return data;
  const pages = data.pages.map((page) => ({
    ...page,
    data: page.data.filter((t) => t.id !== thread.id),
  }));
  pages[0] = { ...pages[0], data: [thread, ...pages[0].data] };
  return { ...data, pages };
}

function upsertNotification(list: Notification[], notification: Notification): Notification[] {
  return [notification, ...list.filter((n) => n.id !== notification.id)];
}
