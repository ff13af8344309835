/**
 * BullMQ keeps jobs in Redis keys without expiry; an evicting Redis silently drops them. The
 * database still holds the work (the reconciler re-dispatches it), but operators should know.
 */
export function evictionPolicyWarning(policy: string | null): string | null {
  if (policy === null) return 'Could not read Redis maxmemory-policy; BullMQ needs noeviction.';
  if (policy !== 'noeviction') {
    return `Redis maxmemory-policy is ${policy}; BullMQ needs noeviction (jobs may be evicted; the reconciler will re-dispatch them late).`;
  }
  return null;
}
