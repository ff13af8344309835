import { evictionPolicyWarning } from './redis-policy';

describe('evictionPolicyWarning', () => {
  it('is quiet for noeviction', () => {
    expect(evictionPolicyWarning('noeviction')).toBeNull();
  });
  it('warns for any evicting policy or when it cannot be read', () => {
    expect(evictionPolicyWarning('allkeys-lru')).toMatch(/allkeys-lru.*noeviction/);
    expect(evictionPolicyWarning(null)).toMatch(/noeviction/);
  });
});
