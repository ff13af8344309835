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

  it('repairs a lone surrogate', () => {
    expect(displayNameFromClaim('a\uD800b')).toBe('a\uFFFDb');
  });
});
