import { displayNameFromClaim } from './principal';

describe('displayNameFromClaim', () => {
  it('turns control characters and line breaks into single spaces', () => {
    expect(displayNameFromClaim('Ann\u0007 \n\tMarie\r\nDoe\u0000')).toBe('Ann Marie Doe');
  });

  it('trims, and gives null when nothing printable is left', () => {
    expect(displayNameFromClaim('  Bob  ')).toBe('Bob');
    expect(displayNameFromClaim(' \u0001\n ')).toBeNull();
  });

  it('cuts at 200 code points without splitting a character', () => {
    const name = displayNameFromClaim('😀'.repeat(250))!;
    expect(Array.from(name)).toHaveLength(200);
    expect((name as string & { isWellFormed(): boolean }).isWellFormed()).toBe(true);
  });

  it('removes zero-width and bidirectional control characters and normalises to NFC', () => {
    expect(displayNameFromClaim('A\u200Bl\u200Dice\uFEFF')).toBe('Alice');
    expect(displayNameFromClaim('\u202Eevil\u202C \u2066Bob\u2069 \u200E\u200F')).toBe('evil Bob');
    expect(displayNameFromClaim('Rene\u0301e')).toBe('Ren\u00E9e');
    expect(displayNameFromClaim('\u200B\u200B')).toBeNull();
  });

  it('repairs a lone surrogate', () => {
    expect(displayNameFromClaim('a\uD800b')).toBe('a\uFFFDb');
  });
});
