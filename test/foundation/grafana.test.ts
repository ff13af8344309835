import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * The operators' dashboard and Prometheus files of docs/grafana (issue 18) against the metrics
 * docs/operations.md documents: every metric a query or an alert reads is in the "Metrics" table
 * (or one of prom-client's default metrics), no label outside the documented ones, the alerts
 * are the suggested ones, and the paths of docker-compose.yml's observability profile agree with
 * the files. No YAML parser is a direct dependency: the YAML files are read line by line.
 */
const ROOT = join(__dirname, '../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface Documented {
  type: string;
  labels: string[];
}

/** The "## Metrics" section of docs/operations.md. */
function metricsSection(): string {
  const ops = read('docs/operations.md');
  const start = ops.indexOf('\n## Metrics\n');
  if (start < 0) throw new Error('docs/operations.md has no "## Metrics" section');
  const end = ops.indexOf('\n## ', start + 1);
  return ops.slice(start, end < 0 ? undefined : end);
}

/** The table's rows: metric name → type and label names (values in parentheses left out). */
function documentedMetrics(): Map<string, Documented> {
  const metrics = new Map<string, Documented>();
  for (const line of metricsSection().split('\n')) {
    const row = /^\|\s*`([a-zA-Z_:][a-zA-Z0-9_:]*)`\s*\|\s*(\w+)\s*\|([^|]*)\|/.exec(line);
    if (!row) continue;
    const labels = [...row[3].replace(/\([^)]*\)/g, '').matchAll(/`([a-zA-Z_][a-zA-Z0-9_]*)`/g)];
    metrics.set(row[1], { type: row[2], labels: labels.map((m) => m[1]) });
  }
  return metrics;
}

/** prom-client's default metrics (collectDefaultMetrics), as the service registers them. */
function nodeDefaultMetrics(): Map<string, Documented> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = new Map<string, Documented>();
  for (const metric of registry.getMetricsAsArray()) {
    const { name, type, labelNames } = metric as unknown as {
      name: string;
      type: string;
      labelNames?: string[];
    };
    metrics.set(name, { type: String(type), labels: ['process', ...(labelNames ?? [])] });
  }
  registry.clear();
  return metrics;
}

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'group_left',
  'group_right',
  'inf',
  'nan',
]);

/** The series names and label names a PromQL expression reads (Grafana variables allowed). */
function promqlNames(expr: string): { metrics: string[]; labels: string[] } {
  const labels: string[] = [];
  const text = expr
    .replace(/\$\{?__\w+\}?/g, '1m')
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{([^}]*)\}/g, (_, body: string) => {
      for (const m of body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g))
        labels.push(m[1]);
      return ' ';
    })
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(
      /\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g,
      (_, list: string) => {
        labels.push(
          ...list
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        );
        return ' ';
      },
    );
  const metrics = [...text.matchAll(/(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)]
    .filter((m) => !m[2] && !KEYWORDS.has(m[1].toLowerCase()))
    .map((m) => m[1]);
  return { metrics, labels };
}

interface Alert {
  alert: string;
  expr: string;
  for?: string;
}

/** `- alert:` entries with their `expr` (one line, or a `|` block) and `for`, line by line. */
function parseAlerts(yaml: string): Alert[] {
  const alerts: Alert[] = [];
  const lines = yaml.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const alert = /^\s*- alert:\s*(\w+)/.exec(lines[i]);
    if (alert) {
      alerts.push({ alert: alert[1], expr: '' });
      continue;
    }
    const current = alerts[alerts.length - 1];
    const field = /^(\s*)(expr|for):\s*(.*?)\s*$/.exec(lines[i]);
    if (!current || !field) continue;
    if (field[2] === 'for') {
      current.for = field[3];
    } else if (field[3] === '|' || field[3] === '|-') {
      const block: string[] = [];
      while (
        i + 1 < lines.length &&
        (lines[i + 1].trim() === '' || indent(lines[i + 1]) > field[1].length)
      )
        block.push(lines[++i]);
      current.expr = block.join('\n').trim();
    } else {
      current.expr = field[3];
    }
  }
  return alerts.map((a) => ({ ...a, expr: a.expr.replace(/\s+/g, ' ').trim() }));
}

const indent = (line: string) => /^\s*/.exec(line)![0].length;

interface Panel {
  id: number;
  type: string;
  title?: string;
  datasource?: { type?: string; uid?: string } | null;
  gridPos?: { h: number; w: number; x: number; y: number };
  targets?: { refId: string; expr?: string; datasource?: { type?: string; uid?: string } }[];
  panels?: Panel[];
}

const dashboard = JSON.parse(read('docs/grafana/resident-messaging.json')) as {
  schemaVersion: number;
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string }[] };
};
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queries = panels.flatMap((p) =>
  (p.targets ?? []).map((t) => ({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr ?? '' })),
);
const alertsYaml = read('docs/grafana/alerts.yml');
const alerts = parseAlerts(alertsYaml);
const documented = documentedMetrics();
const nodeDefaults = nodeDefaultMetrics();
/** Labels of the scrape itself (Prometheus adds them), not of the service's metrics. */
const TARGET_LABELS = ['instance', 'job'];

/** The documented metric (or Node default) a series name reads, with its labels; else undefined. */
function resolve(series: string): (Documented & { name: string; bucket: boolean }) | undefined {
  for (const table of [documented, nodeDefaults]) {
    const exact = table.get(series);
    if (exact) return { ...exact, name: series, bucket: false };
    const suffix = /^(.+)_(bucket|count|sum)$/.exec(series);
    const base = suffix && table.get(suffix[1]);
    if (suffix && base && ['histogram', 'summary'].includes(base.type))
      return { ...base, name: suffix[1], bucket: suffix[2] === 'bucket' };
  }
  return undefined;
}

describe('PromQL name extraction', () => {
  it('finds series and labels, not functions, keywords, strings or durations', () => {
    expect(
      promqlNames(
        'histogram_quantile(0.99, sum by (le, route) (rate(http_server_request_duration_seconds_bucket{route!="/api/v1/x"}[$__rate_interval])))',
      ),
    ).toEqual({
      metrics: ['http_server_request_duration_seconds_bucket'],
      labels: ['route', 'le', 'route'],
    });
    expect(
      promqlNames(
        'sum(rate(a_total{x="1e3 y"}[5m] offset 1h)) / on (instance) group_left b > bool 1e3',
      ),
    ).toEqual({ metrics: ['a_total', 'b'], labels: ['x', 'instance'] });
  });
});

describe('docs/operations.md metrics table', () => {
  it('is read: every documented metric with its type', () => {
    expect(documented.size).toBeGreaterThanOrEqual(18);
    expect(documented.get('http_server_request_duration_seconds')).toEqual({
      type: 'histogram',
      labels: ['method', 'route', 'status_class'],
    });
    expect(nodeDefaults.has('nodejs_eventloop_lag_p99_seconds')).toBe(true);
  });
});

describe('docs/grafana/resident-messaging.json', () => {
  it('is a Grafana dashboard with a Prometheus data source variable', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.uid).toBe('resident-messaging');
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }),
    );
  });

  it('has rows for HTTP, outbox, webhooks, event stream, database and queues, processes', () => {
    const rows = panels.filter((p) => p.type === 'row').map((p) => p.title ?? '');
    for (const row of [
      'HTTP',
      'Outbox',
      'Webhooks',
      'Event stream',
      'Database and queues',
      'Processes',
    ])
      expect({ row, found: rows.some((title) => title.startsWith(row)) }).toEqual({
        row,
        found: true,
      });
  });

  it('gives every panel a title, a Prometheus data source, a place and unique id', () => {
    const ids = new Set<number>();
    for (const panel of panels) {
      const where = `panel ${panel.id} "${panel.title}"`;
      expect({
        where,
        title: typeof panel.title === 'string' && panel.title.trim() !== '',
      }).toEqual({
        where,
        title: true,
      });
      expect({ where, datasource: panel.datasource }).toEqual({
        where,
        datasource: {
          type: 'prometheus',
          uid: expect.stringMatching(/^(\$\{datasource\}|prometheus)$/),
        },
      });
      expect({ where, gridPos: panel.gridPos }).toEqual({ where, gridPos: expect.any(Object) });
      expect(ids.has(panel.id)).toBe(false);
      ids.add(panel.id);
      if (panel.type === 'row') continue;
      expect({ where, targets: (panel.targets ?? []).length > 0 }).toEqual({
        where,
        targets: true,
      });
      for (const target of panel.targets ?? [])
        expect({ where, datasource: target.datasource, expr: !!target.expr }).toEqual({
          where,
          datasource: panel.datasource,
          expr: true,
        });
    }
  });

  it('shows every documented metric', () => {
    const used = new Set(
      queries.flatMap((q) => promqlNames(q.expr).metrics.map((m) => resolve(m)?.name)),
    );
    for (const name of documented.keys())
      expect({ name, shown: used.has(name) }).toEqual({ name, shown: true });
  });
});

describe.each([
  ['docs/grafana/resident-messaging.json', queries],
  ['docs/grafana/alerts.yml', alerts.map((a) => ({ where: `alert ${a.alert}`, expr: a.expr }))],
])('%s', (_file, exprs) => {
  it('reads only documented metrics (or Node defaults), by documented labels only', () => {
    expect(exprs.length).toBeGreaterThan(0);
    for (const { where, expr } of exprs) {
      const { metrics, labels } = promqlNames(expr);
      expect({ where, metrics: metrics.length > 0 }).toEqual({ where, metrics: true });
      const allowed = new Set(TARGET_LABELS);
      for (const series of metrics) {
        const metric = resolve(series);
        expect({ where, series, documented: !!metric }).toEqual({
          where,
          series,
          documented: true,
        });
        for (const label of metric?.labels ?? []) allowed.add(label);
        if (metric?.bucket) allowed.add('le');
      }
      for (const label of labels) {
        expect({ where, label, documented: allowed.has(label) }).toEqual({
          where,
          label,
          documented: true,
        });
        expect({ where, label, id: /(^|_)id$/i.test(label) }).toEqual({ where, label, id: false });
      }
    }
  });
});

describe('docs/grafana/alerts.yml', () => {
  it('holds the suggested alerts of docs/operations.md, as they are there', () => {
    const section = metricsSection();
    const block = /Suggested alerts:\s*```yaml\n([\s\S]*?)```/.exec(section);
    expect(block).not.toBeNull();
    const suggested = parseAlerts(block![1]);
    expect(suggested.length).toBeGreaterThan(0);
    expect(alerts).toEqual(suggested);
  });

  it('is a rules file: one group of rules', () => {
    expect(alertsYaml).toMatch(/^groups:\n {2}- name: resident-messaging\n {4}rules:\n/m);
  });
});

describe('Prometheus and Grafana configuration', () => {
  const prometheus = read('docs/grafana/prometheus.yml');
  const compose = read('docker-compose.yml');
  const datasource = read('docs/grafana/provisioning/datasources/prometheus.yml');
  const provider = read('docs/grafana/provisioning/dashboards/dashboards.yml');
  const value = (yaml: string, key: string) =>
    new RegExp(`^\\s*${key}:\\s*(\\S+)\\s*$`, 'm').exec(yaml)?.[1];

  it('scrapes the API and the worker with the bearer token the compose entrypoint writes', () => {
    expect(value(prometheus, 'metrics_path')).toBe('/metrics');
    expect(prometheus).toMatch(/targets: \['api:3000', 'worker:3001'\]/);
    expect(value(prometheus, 'type')).toBe('Bearer');
    const tokenFile = value(prometheus, 'credentials_file');
    expect(tokenFile).toMatch(/^\//);
    expect(compose).toContain(`printf %s "$$METRICS_TOKEN" > ${tokenFile} &&`);
  });

  it('loads alerts.yml where compose mounts it', () => {
    const rules = /^rule_files:\n\s+- (\S+)$/m.exec(prometheus)?.[1];
    expect(compose).toContain(`- ./docs/grafana/alerts.yml:${rules}:ro`);
    expect(compose).toContain('- ./docs/grafana/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
    expect(compose).toContain('--config.file=/etc/prometheus/prometheus.yml');
  });

  it('provisions the Prometheus data source under uid prometheus and the dashboard', () => {
    expect(value(datasource, 'uid')).toBe('prometheus');
    expect(value(datasource, 'type')).toBe('prometheus');
    expect(value(datasource, 'url')).toBe('http://prometheus:9090');
    const path = value(provider, 'path');
    expect(path).toBe('/var/lib/grafana/dashboards');
    expect(compose).toContain(
      `- ./docs/grafana/resident-messaging.json:${path}/resident-messaging.json:ro`,
    );
    expect(compose).toContain(
      '- ./docs/grafana/provisioning/datasources:/etc/grafana/provisioning/datasources:ro',
    );
    expect(compose).toContain(
      '- ./docs/grafana/provisioning/dashboards:/etc/grafana/provisioning/dashboards:ro',
    );
  });
});
