import type { MemberSummary, Thread } from '@resident-messaging/client';

/** The other member of a direct thread (or the first participant if I am not listed). */
export function otherParticipant(thread: Thread, myUserId: string): MemberSummary | undefined {
  return thread.participants.find((p) => p.userId !== myUserId) ?? thread.participants[0];
}
