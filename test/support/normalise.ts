const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const TIMESTAMP = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g;

/**
 * Replaces ids by their order of first appearance and timestamps by a placeholder, so that what
 * two members receive in two orgs compares equal when it says the same.
 */
export class Normaliser {
  private readonly ids = new Map<string, string>();

  normalise(value: unknown): unknown {
    if (typeof value === 'string') {
      return value
        .replace(UUID, (id) => {
          const key = id.toLowerCase();
          if (!this.ids.has(key)) this.ids.set(key, `<id ${this.ids.size + 1}>`);
          return this.ids.get(key)!;
        })
        .replace(TIMESTAMP, '<time>');
    }
    if (Array.isArray(value)) return value.map((v) => this.normalise(v));
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.normalise(v)]));
    }
    return value;
  }
}
