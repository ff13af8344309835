import { useRef, useState } from 'react';
import type { Thread } from '@resident-messaging/client';
import { threadsOf, useThreads } from '@resident-messaging/client/react';
import { formatFull, formatTime } from './format';
import { otherParticipant } from './participants';
import { paths } from './routing';
import { QueryError } from './QueryError';
import { RecipientSearch } from './RecipientSearch';
import { useSession } from './session';
import { usePageFocus } from './usePageFocus';

export function ConversationsPage() {
  const threads = useThreads();
  const [searching, setSearching] = useState(false);
  const newButton = useRef<HTMLButtonElement>(null);
  const closeSearch = () => {
    setSearching(false);
    newButton.current?.focus();
  };
  const heading = usePageFocus<HTMLHeadingElement>();
  const list = threadsOf(threads.data);

  return (
    <div className="page">
      <div className="page-header">
        <h1 ref={heading} tabIndex={-1}>
          Conversations
        </h1>
        <button
          ref={newButton}
          type="button"
          className="button"
          aria-expanded={searching}
          aria-controls="new-conversation"
          onClick={() => setSearching((open) => !open)}
        >
          New conversation
        </button>
      </div>
      <div id="new-conversation" hidden={!searching}>
        {searching && <RecipientSearch onClose={closeSearch} />}
      </div>

      {threads.isPending ? (
        <p className="muted" role="status">
          Loading conversations…
        </p>
      ) : threads.isError && !threads.data ? (
        <QueryError
          what="Could not load your conversations"
          error={threads.error}
          onRetry={() => void threads.refetch()}
        />
      ) : list.length === 0 ? (
        <p className="empty">No conversations yet</p>
      ) : (
        <>
          <ul aria-label="Conversations" className="thread-list">
            {list.map((thread) => (
              <ThreadRow key={thread.id} thread={thread} />
            ))}
          </ul>
          {threads.hasNextPage && (
            <button
              type="button"
              className="button secondary load-more"
              disabled={threads.isFetchingNextPage}
              onClick={() => void threads.fetchNextPage()}
            >
              {threads.isFetchingNextPage ? 'Loading…' : 'Load more conversations'}
            </button>
          )}
          {threads.isFetchNextPageError && (
            <QueryError what="Could not load more conversations" error={threads.error} />
          )}
        </>
      )}
    </div>
  );
}

function preview(thread: Thread, myUserId: string): string {
  const last = thread.lastMessage;
  if (!last) return 'No messages yet';
  if (last.deleted || last.body === null) return 'Message deleted';
  const text = oneLine(last.body);
  return last.sender.userId === myUserId ? `You: ${text}` : text;
}

const PREVIEW_LENGTH = 160;

/** A preview fits one line: whitespace collapsed, long bodies cut. */
function oneLine(body: string): string {
  const text = body.replace(/\s+/g, ' ').trim();
  return text.length > PREVIEW_LENGTH ? `${text.slice(0, PREVIEW_LENGTH - 1)}…` : text;
}

function ThreadRow({ thread }: { thread: Thread }) {
  const { me } = useSession();
  const other = otherParticipant(thread, me.userId);
  const when = thread.lastMessageAt ?? thread.createdAt;
  const unread = thread.unreadCount > 0;
  return (
    <li>
      <a href={paths.thread(thread.id)} className={`thread-row ${unread ? 'unread' : ''}`}>
        <span className="thread-row-top">
          <span className="thread-name">{other?.displayName ?? 'Unknown member'}</span>
          <time dateTime={when} title={formatFull(when)} className="thread-time">
            {formatTime(when)}
          </time>
        </span>
        <span className="thread-row-bottom">
          <span className={`thread-preview ${thread.lastMessage?.deleted ? 'tombstone' : ''}`}>
            {preview(thread, me.userId)}
          </span>
          {unread && (
            <span className="badge" aria-label={`${thread.unreadCount} unread`}>
              {thread.unreadCount}
            </span>
          )}
        </span>
      </a>
    </li>
  );
}
