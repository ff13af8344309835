/** The value of an unlabelled sample (`name value`) in a Prometheus text answer; NaN: absent. */
export function sampleOf(text: string, name: string): number {
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
}
