import { prepare } from './sql';

describe('prepare', () => {
  it('numbers the placeholders and names the statement after its text', () => {
    const a = prepare('select * from t where a = ? and b < ?::timestamptz limit ?');
    expect(a.text).toBe('select * from t where a = $1 and b < $2::timestamptz limit $3');
    expect(a.name).toMatch(/^rm_[0-9a-f]{20}$/);
    expect(prepare('select * from t where a = ? and b < ?::timestamptz limit ?')).toBe(a);
    expect(prepare('select 1').name).not.toBe(a.name);
  });
});
