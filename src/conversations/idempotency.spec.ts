import { ProblemError } from '../platform/http/problem';
import { requestHash, resolveIdempotencyKey } from './idempotency';

describe('resolveIdempotencyKey', () => {
  it('takes the key from the body or the header', () => {
    expect(resolveIdempotencyKey('k1', undefined)).toBe('k1');
    expect(resolveIdempotencyKey(undefined, 'k2')).toBe('k2');
    expect(resolveIdempotencyKey('k3', 'k3')).toBe('k3');
    expect(resolveIdempotencyKey(undefined, undefined)).toBeNull();
  });

  it('refuses a mismatch, a malformed header and repeated headers with 400', () => {
    for (const [body, header] of [
      ['a', 'b'],
      [undefined, 'has space'],
      [undefined, 'x'.repeat(65)],
      [undefined, ['a', 'b']],
    ] as const) {
      let error: unknown;
      try {
        resolveIdempotencyKey(body, header as string | string[]);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ProblemError);
      expect((error as ProblemError).status).toBe(400);
    }
  });
});

describe('requestHash', () => {
  it('is stable for the same body and differs for another', () => {
    expect(requestHash('hello').equals(requestHash('hello'))).toBe(true);
    expect(requestHash('hello').equals(requestHash('hello!'))).toBe(false);
  });
});
