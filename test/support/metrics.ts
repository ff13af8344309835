import type { TestApp } from './test-app';

/** The value of an unlabelled sample (`name value`) in a Prometheus text answer; NaN: absent. */
export function sampleOf(text: string, name: string): number {
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
}

/** An unlabelled gauge of the app's /metrics, scraped as an operator does (Basic auth). */
export async function gaugeOf(t: TestApp, name: string): Promise<number> {
  const res = await t
    .http()
    .get('/metrics')
    .auth(t.config.operator.user, t.config.operator.password);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return sampleOf(res.text, name);
}
