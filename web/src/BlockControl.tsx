import { useRef, useState } from 'react';
import type { MemberSummary } from '@resident-messaging/client';
import { useBlockedUsers, useBlockUser, useUnblockUser } from '@resident-messaging/client/react';
import { ConfirmDialog } from './ConfirmDialog';
import { errorMessage } from './errors';

/** "Block" (after a confirmation) or, when I already blocked them, "Unblock". */
export function BlockControl({ other }: { other: MemberSummary }) {
  const blocked = useBlockedUsers();
  const block = useBlockUser();
  const unblock = useUnblockUser();
  const [confirming, setConfirming] = useState(false);
  const button = useRef<HTMLButtonElement>(null);

  const isBlocked = !!blocked.data?.data.some((b) => b.blockedUserId === other.userId);

  const onClick = () => {
    if (isBlocked) {
      unblock.mutate(other.userId);
    } else {
      block.reset();
      setConfirming(true);
    }
  };

  return (
    <>
      {/* One button whose label changes: focus stays on it when the state flips. */}
      <button
        ref={button}
        type="button"
        className={`button ${isBlocked ? 'secondary' : 'danger-outline'} small`}
        disabled={unblock.isPending || blocked.isPending}
        onClick={onClick}
      >
        {isBlocked ? 'Unblock' : 'Block'}
      </button>
      {unblock.isError && (
        <p role="alert" className="inline-error header-error">
          {errorMessage(unblock.error)}
        </p>
      )}
      {confirming && (
        <ConfirmDialog
          title={`Block ${other.displayName}?`}
          confirmLabel="Block"
          busy={block.isPending}
          error={block.error}
          returnFocus={button}
          onCancel={() => setConfirming(false)}
          onConfirm={() =>
            block.mutate(other.userId, {
              onSuccess: () => setConfirming(false),
            })
          }
        >
          <p>
            You will no longer see messages from {other.displayName}, and they will not be told. You
            can unblock them at any time.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
