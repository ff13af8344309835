import { Webhook } from 'standardwebhooks';
import { generateSecret, decryptSecret, encryptSecret } from './secrets';
import { webhookHeaders } from './signing';

describe('webhook signatures (verified with the standardwebhooks package)', () => {
  const body = JSON.stringify({
    type: 'message.created',
    timestamp: '2026-11-26T12:00:00.000Z',
    data: { orgId: 'o' },
  });

  it('verifies with the endpoint secret', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const headers = webhookHeaders([secret], 'msg_1', body);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('carries one signature per secret during a rotation, each verifiable on its own', () => {
    const [current, previous] = [generateSecret(), generateSecret()];
    const headers = webhookHeaders([current, previous], 'msg_2', body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(current).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(previous).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(generateSecret()).verify(body, headers)).toThrow();
  });

  it('fails verification when the body is altered', () => {
    const secret = generateSecret();
    const headers = webhookHeaders([secret], 'msg_3', body);
    expect(() => new Webhook(secret).verify(body.replace('o', 'x'), headers)).toThrow();
  });
});

describe('secrets at rest', () => {
  it('round-trips through AES-256-GCM and does not contain the secret', () => {
    const key = Buffer.alloc(32, 9);
    const secret = generateSecret();
    const stored = encryptSecret(secret, key);
    expect(stored).not.toContain(secret.slice(6, 20));
    expect(decryptSecret(stored, key)).toBe(secret);
    expect(() => decryptSecret(stored, Buffer.alloc(32, 1))).toThrow();
  });
});
