import type { CachedMessage } from '@resident-messaging/client/react';
import { formatDateTime, formatFull } from './format';
import { useDelayedFlag } from './useDelayedFlag';

/** A send that takes longer than this shows as pending ("Sending…", dimmed). */
const PENDING_AFTER_MS = 500;

/** One bubble: mine on the right (with "Sending…" or "Seen"), theirs on the left. */
export function MessageItem(props: {
  message: CachedMessage;
  mine: boolean;
  otherUserId: string | undefined;
}) {
  const { message, mine } = props;
  const pending = useDelayedFlag(!!message.pending, PENDING_AFTER_MS);
  const deleted = message.deleted || message.body === null;
  const seen = mine
    ? (message.seenBy.find((s) => s.userId === props.otherUserId) ??
      (props.otherUserId ? undefined : message.seenBy[0]))
    : undefined;
  const classes = [
    'message',
    mine ? 'mine' : 'theirs',
    pending ? 'pending' : '',
    deleted ? 'deleted' : '',
  ].join(' ');

  return (
    <li className={classes} aria-busy={pending || undefined}>
      <div className="bubble">
        <span className="visually-hidden">{mine ? 'You' : message.sender.displayName}: </span>
        {deleted ? (
          <p className="message-body tombstone">Message deleted</p>
        ) : (
          <p className="message-body">{message.body}</p>
        )}
        <p className="message-meta">
          <time dateTime={message.createdAt} title={formatFull(message.createdAt)}>
            {formatDateTime(message.createdAt)}
          </time>
          {pending && (
            <>
              <span aria-hidden="true"> · </span>
              <span className="sending">Sending…</span>
            </>
          )}
          {seen && !message.pending && (
            <>
              <span aria-hidden="true"> · </span>
              <span className="seen">
                Seen{' '}
                <time dateTime={seen.seenAt} title={formatFull(seen.seenAt)}>
                  {formatDateTime(seen.seenAt)}
                </time>
              </span>
            </>
          )}
        </p>
      </div>
    </li>
  );
}
