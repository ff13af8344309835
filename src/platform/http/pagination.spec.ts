import { decodeCursor, encodeCursor, isCursorTimestamp } from './pagination';

describe('cursor timestamps', () => {
  it.each([
    '2026-11-26T14:02:55Z',
    '2026-11-26T14:02:55.120Z',
    '2026-11-26T14:02:55.120000Z',
    '2024-02-29T00:00:00Z',
    '0001-01-01T00:00:00Z',
  ])('accepts %s', (value) => expect(isCursorTimestamp(value)).toBe(true));

  it.each([
    '0',
    '2020',
    'Jan 1 2020',
    '2022-02-30T10:00:00Z',
    '2023-02-29T00:00:00Z',
    '2024-13-01T00:00:00Z',
    '2024-01-01T24:00:00Z',
    '2024-01-01T23:60:00Z',
    '0000-01-01T00:00:00Z',
    '2024-01-01T00:00:00.1234567Z',
    '2024-01-01T00:00:00+01:00',
    '+275760-09-13T00:00:00.000Z',
  ])('refuses %s', (value) => expect(isCursorTimestamp(value)).toBe(false));

  it('a forged cursor with an impossible date is validation-failed, a real one decodes', () => {
    const good = encodeCursor([
      '2026-11-26T14:02:55.120000Z',
      '01a21826-4154-7c3e-8a41-5b0d2e6f9c18',
    ]);
    expect(decodeCursor(good, ['timestamp', 'uuid'])).toHaveLength(2);
    const forged = encodeCursor(['2022-02-30T10:00:00Z', '01a21826-4154-7c3e-8a41-5b0d2e6f9c18']);
    expect(() => decodeCursor(forged, ['timestamp', 'uuid'])).toThrow(
      expect.objectContaining({ status: 400, slug: 'validation-failed' }),
    );
  });
});
