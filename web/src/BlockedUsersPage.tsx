import { useBlockedUsers, useUnblockUser } from '@resident-messaging/client/react';
import { formatFull, formatTime } from './format';
import { QueryError } from './QueryError';
import { usePageFocus } from './usePageFocus';

export function BlockedUsersPage() {
  const blocked = useBlockedUsers();
  const unblock = useUnblockUser();
  const heading = usePageFocus<HTMLHeadingElement>();
  const list = blocked.data?.data ?? [];

  const onUnblock = (userId: string) =>
    unblock.mutate(userId, {
      // The row is gone: keep focus on the page.
      onSuccess: () => heading.current?.focus(),
    });

  return (
    <div className="page">
      <h1 ref={heading} tabIndex={-1}>
        Blocked users
      </h1>
      <p className="muted">
        You do not see messages from members you block, and they are not told.
      </p>
      {blocked.isPending ? (
        <p className="muted" role="status">
          Loading…
        </p>
      ) : blocked.isError && !blocked.data ? (
        <QueryError
          what="Could not load your blocked users"
          error={blocked.error}
          onRetry={() => void blocked.refetch()}
        />
      ) : list.length === 0 ? (
        <p className="empty">You have not blocked anyone</p>
      ) : (
        <ul aria-label="Blocked users" className="blocked-list">
          {list.map((block) => (
            <li key={block.blockedUserId}>
              <span className="blocked-name">{block.user.displayName}</span>
              <span className="muted blocked-since">
                Blocked{' '}
                <time dateTime={block.createdAt} title={formatFull(block.createdAt)}>
                  {formatTime(block.createdAt)}
                </time>
              </span>
              <button
                type="button"
                className="button secondary small"
                disabled={unblock.isPending && unblock.variables === block.blockedUserId}
                onClick={() => onUnblock(block.blockedUserId)}
              >
                Unblock<span className="visually-hidden"> {block.user.displayName}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {unblock.isError && <QueryError what="Could not unblock" error={unblock.error} />}
    </div>
  );
}
