import { useEffect, useLayoutEffect, useRef } from 'react';
import type { MemberSummary } from '@resident-messaging/client';
import { messagesOf, useMarkRead, useMessages } from '@resident-messaging/client/react';
import { MessageItem } from './MessageItem';
import { QueryError } from './QueryError';
import { useSession } from './session';

/** How close to the top (px) scrolling loads older messages. */
const LOAD_OLDER_AT = 120;
/** How close to the bottom (px) counts as "at the bottom" (new messages then keep it there). */
const BOTTOM_SLACK = 48;

/**
 * The messages, oldest at the top. It opens at the bottom and follows new messages; scrolling to
 * the top (or the "Load older messages" button) loads older pages without moving what you read.
 * The thread is marked read when shown and when a message from the other arrives while visible.
 */
export function MessageLog({ threadId, other }: { threadId: string; other?: MemberSummary }) {
  const { me } = useSession();
  const messages = useMessages(threadId);
  const markRead = useMarkRead(threadId);
  const list = messagesOf(messages.data);
  const scroller = useRef<HTMLDivElement>(null);

  // --- Scrolling ---------------------------------------------------------------------------
  const firstId = list[0]?.id;
  const lastId = list.at(-1)?.id;
  const previous = useRef<{ first?: string; last?: string; height: number }>({ height: 0 });
  const atBottom = useRef(true);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const before = previous.current;
    if (lastId !== before.last) {
      // Opened, or a new message at the end: show it.
      el.scrollTop = el.scrollHeight;
      atBottom.current = true;
    } else if (firstId !== before.first && before.height > 0) {
      // Older messages above: keep what was on screen where it was.
      el.scrollTop += el.scrollHeight - before.height;
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    }
    previous.current = { first: firstId, last: lastId, height: el.scrollHeight };
  });

  const { hasNextPage, isFetchingNextPage, fetchNextPage } = messages;
  const loadOlder = () => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  };

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK;
    if (el.scrollTop <= LOAD_OLDER_AT) loadOlder();
  };

  // A first page that does not fill the view cannot be scrolled: load older ones right away.
  useEffect(() => {
    const el = scroller.current;
    if (el && hasNextPage && !isFetchingNextPage && el.scrollHeight <= el.clientHeight) {
      void fetchNextPage();
    }
  }, [hasNextPage, isFetchingNextPage, fetchNextPage, list.length]);

  // --- Read ----------------------------------------------------------------------------------
  const lastFromOther =
    list.findLast((m) => !m.pending && m.sender.userId !== me.userId)?.id ?? 'none';
  const markedFor = useRef<string | null>(null);
  const mark = useRef(markRead.mutate);
  mark.current = markRead.mutate;
  const loaded = messages.isSuccess;

  useEffect(() => {
    if (!loaded) return;
    const markIfVisible = () => {
      if (document.visibilityState !== 'visible' || markedFor.current === lastFromOther) return;
      markedFor.current = lastFromOther;
      mark.current({});
    };
    markIfVisible();
    document.addEventListener('visibilitychange', markIfVisible);
    return () => document.removeEventListener('visibilitychange', markIfVisible);
  }, [loaded, lastFromOther]);

  return (
    <div
      ref={scroller}
      className="message-log"
      role="log"
      aria-label="Messages"
      aria-live="polite"
      tabIndex={0}
      onScroll={onScroll}
    >
      {hasNextPage && (
        <div className="load-older">
          <button
            type="button"
            className="button secondary small"
            disabled={isFetchingNextPage}
            onClick={loadOlder}
          >
            {isFetchingNextPage ? 'Loading older messages…' : 'Load older messages'}
          </button>
        </div>
      )}
      {messages.isFetchNextPageError && (
        <QueryError what="Could not load older messages" error={messages.error} />
      )}
      {messages.isPending ? (
        <p className="muted log-note">Loading messages…</p>
      ) : messages.isError && !messages.data ? (
        <QueryError
          what="Could not load the messages"
          error={messages.error}
          onRetry={() => void messages.refetch()}
        />
      ) : list.length === 0 ? (
        <p className="muted log-note">No messages yet. Say hello!</p>
      ) : (
        <ol className="message-list">
          {list.map((message) => (
            <MessageItem
              key={message.clientMessageId ?? message.id}
              message={message}
              mine={message.sender.userId === me.userId}
              otherUserId={other?.userId}
            />
          ))}
        </ol>
      )}
    </div>
  );
}
