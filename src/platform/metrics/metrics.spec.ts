import { Metrics, uuidV7Time } from './metrics';

describe('uuidV7Time', () => {
  it('reads the millisecond timestamp a UUIDv7 carries', () => {
    // RFC 9562's example: 017F22E2-79B0-7CC3-98C4-DC0C0C07398F was made at 2022-02-22T19:22:22Z.
    expect(new Date(uuidV7Time('017f22e2-79b0-7cc3-98c4-dc0c0c07398f')).toISOString()).toBe(
      '2022-02-22T19:22:22.000Z',
    );
  });
});

describe('Metrics', () => {
  it('hands back the metric already registered under a name', () => {
    const metrics = new Metrics('worker');
    const first = metrics.counter({ name: 'things_total', help: 'Things.' });
    const again = metrics.counter({ name: 'things_total', help: 'Things.' });
    expect(again).toBe(first);
  });
});
