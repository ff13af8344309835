import { createHash } from 'node:crypto';
import { Problems } from '../platform/http/problem';

const KEY = /^[\x21-\x7E]{1,64}$/;

/**
 * One key space for `clientMessageId` and the `Idempotency-Key` header: either may carry it; if
 * both are given they must match.
 */
export function resolveIdempotencyKey(
  bodyKey: string | undefined,
  header: string | string[] | undefined,
): string | null {
  if (Array.isArray(header))
    throw Problems.badRequest('Send one Idempotency-Key header.', 'Idempotency-Key');
  if (header !== undefined && !KEY.test(header)) {
    throw Problems.badRequest(
      'Idempotency-Key must be 1–64 printable ASCII characters without spaces.',
      'Idempotency-Key',
    );
  }
  if (bodyKey !== undefined && header !== undefined && bodyKey !== header) {
    throw Problems.badRequest(
      'clientMessageId and the Idempotency-Key header differ; send one, or the same value in both.',
      'clientMessageId',
    );
  }
  return bodyKey ?? header ?? null;
}

/** What a repeat must match: the (trimmed) body. The thread is compared separately. */
export function requestHash(body: string): Buffer {
  return createHash('sha256').update(body, 'utf8').digest();
}
