import { useBlockedUsers, useThread } from '@resident-messaging/client/react';
import { BlockControl } from './BlockControl';
import { Composer } from './Composer';
import { MessageLog } from './MessageLog';
import { otherParticipant } from './participants';
import { QueryError } from './QueryError';
import { paths } from './routing';
import { useSession } from './session';
import { usePageFocus } from './usePageFocus';

export function ThreadView({ threadId }: { threadId: string }) {
  const { me } = useSession();
  const thread = useThread(threadId);
  const blocked = useBlockedUsers();
  const heading = usePageFocus<HTMLHeadingElement>(!!thread.data);

  const back = (
    <a href={paths.conversations()} className="back-link">
      <span aria-hidden="true">← </span>All conversations
    </a>
  );

  if (!thread.data) {
    return (
      <div className="page">
        {back}
        {thread.isError ? (
          <QueryError
            what="Could not open this conversation"
            error={thread.error}
            onRetry={() => void thread.refetch()}
          />
        ) : (
          <p className="muted" role="status">
            Loading conversation…
          </p>
        )}
      </div>
    );
  }

  const other = otherParticipant(thread.data.thread, me.userId);
  const isBlocked = !!other && !!blocked.data?.data.some((b) => b.blockedUserId === other.userId);

  return (
    <div className="thread">
      <div className="thread-header">
        {back}
        <div className="thread-title">
          <h2 ref={heading} tabIndex={-1}>
            {other?.displayName ?? 'Conversation'}
          </h2>
          {other && <BlockControl other={other} />}
        </div>
        {isBlocked && other && (
          <p className="notice">
            You blocked {other.displayName}: their messages are hidden from you. Unblock them to
            send a message.
          </p>
        )}
      </div>
      <MessageLog threadId={threadId} other={other} />
      <Composer threadId={threadId} />
    </div>
  );
}
