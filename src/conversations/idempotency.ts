import { createHash } from 'node:crypto';
import { ConversationProblems } from './conversations.problems';

const KEY = /^[\x21-\x7E]{1,64}$/;

/**
 * One key space for `clientMessageId` and the `Idempotency-Key` header: either may carry it; if
 * both are given they must match.
 */
export function resolveIdempotencyKey(
  bodyKey: string | undefined,
  header: string | string[] | undefined,
): string | null {
  if (Array.isArray(header)) throw ConversationProblems.keyHeaderRepeated();
  if (header !== undefined && !KEY.test(header)) throw ConversationProblems.keyHeaderMalformed();
  if (bodyKey !== undefined && header !== undefined && bodyKey !== header) {
    throw ConversationProblems.keyMismatch();
  }
  return bodyKey ?? header ?? null;
}

/** What a repeat must match: the (trimmed) body. The thread is compared separately. */
export function requestHash(body: string): Buffer {
  return createHash('sha256').update(body, 'utf8').digest();
}
