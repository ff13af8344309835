import { receiptVisible } from './receipts';

const at = (iso: string) => new Date(iso);
const on = (since = '2026-01-01T00:00:00Z') => ({ readReceipts: true, receiptsSince: at(since) });
const off = () => ({ readReceipts: false, receiptsSince: at('2026-01-01T00:00:00Z') });

describe('receiptVisible', () => {
  it('shows a read when both have receipts on', () => {
    expect(receiptVisible(on(), on(), at('2026-02-01T00:00:00Z'))).toBe(true);
  });

  it('shows nothing before the read', () => {
    expect(receiptVisible(on(), on(), null)).toBe(false);
  });

  it('hides reads of a member with receipts off, and hides all reads from a viewer with receipts off', () => {
    expect(receiptVisible(off(), on(), at('2026-02-01T00:00:00Z'))).toBe(false);
    expect(receiptVisible(on(), off(), at('2026-02-01T00:00:00Z'))).toBe(false);
  });

  it('reveals only reads made after receipts were turned back on (reader or viewer)', () => {
    const turnedOn = '2026-03-01T00:00:00Z';
    expect(receiptVisible(on(turnedOn), on(), at('2026-02-15T00:00:00Z'))).toBe(false);
    expect(receiptVisible(on(), on(turnedOn), at('2026-02-15T00:00:00Z'))).toBe(false);
    expect(receiptVisible(on(turnedOn), on(), at('2026-03-01T00:00:01Z'))).toBe(true);
  });
});
