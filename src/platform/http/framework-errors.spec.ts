import { depthExceeds } from './framework-errors';

describe('depthExceeds', () => {
  const nest = (depth: number): unknown => {
    let value: unknown = 1;
    for (let i = 0; i < depth; i++) value = [value];
    return value;
  };

  it('accepts flat and moderately nested values', () => {
    expect(depthExceeds({ a: 1, b: [1, 2, { c: 'x' }] }, 32)).toBe(false);
    expect(depthExceeds(nest(32), 32)).toBe(false);
    expect(depthExceeds('text', 32)).toBe(false);
  });

  it('finds values nested past the limit without recursing (100 000 levels)', () => {
    expect(depthExceeds(nest(33), 32)).toBe(true);
    expect(depthExceeds(nest(100_000), 32)).toBe(true);
  });
});
