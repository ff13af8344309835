import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { INTERCEPTORS_METADATA, METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { IS_PUBLIC } from '../../src/platform/auth/decorators';
import { OWN_TRANSACTIONS } from '../../src/platform/tenancy/own-transactions.decorator';
import { TenantContextInterceptor } from '../../src/platform/tenancy/tenant-context.interceptor';

const SRC = join(__dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') ? [path] : [];
  });
}

/** The files of src/ each file imports (relative imports; `import type` too). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = importedFiles
      .map((i) => i.fileName)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => resolve(dirname(file), spec))
      .map((base) => [`${base}.ts`, join(base, 'index.ts')].find((p) => existsSync(p)))
      .filter((p): p is string => p !== undefined && p.startsWith(SRC));
    graph.set(file, targets);
  }
  return graph;
}

/** Strongly connected components with more than one file (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const stack: string[] = [];
  const on = new Set<string>();
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const found: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.map((f) => relative(SRC, f)).sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return found;
}

const DOMAIN =
  /^(members|threads|messages|conversations|blocks|notifications|webhooks|events|operations|schema)\//;

describe('the layout (docs/architecture.md)', () => {
  const graph = importGraph();

  it('has no import cycle in src/', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('keeps src/platform free of every domain folder and of the entry points', () => {
    const offenders = [...graph.entries()].flatMap(([file, targets]) =>
      relative(SRC, file).startsWith('platform/')
        ? targets
            .map((t) => relative(SRC, t))
            .filter((t) => DOMAIN.test(t) || !t.includes('/'))
            .map((t) => `${relative(SRC, file)} → ${t}`)
        : [],
    );
    expect(offenders).toEqual([]);
  });
});

describe('how each route runs (docs/architecture.md, "A request")', () => {
  /** Every route handler of every controller in src/: [Controller.method, handler, class]. */
  const routes = async () => {
    const files = sourceFiles(SRC).filter((file) => file.endsWith('.controller.ts'));
    const modules = await Promise.all(files.map((file) => import(file)));
    return modules
      .flatMap((m) => Object.values(m as Record<string, unknown>))
      .filter((c): c is new () => object => typeof c === 'function' && c.prototype !== undefined)
      .filter((c) => Reflect.getMetadata(PATH_METADATA, c) !== undefined)
      .flatMap((c) =>
        Object.getOwnPropertyNames(c.prototype)
          .map((name) => [name, (c.prototype as Record<string, unknown>)[name]] as const)
          .filter(([, fn]) => typeof fn === 'function')
          .filter(([, fn]) => Reflect.getMetadata(METHOD_METADATA, fn as object) !== undefined)
          .map(([name, fn]) => ({ route: `${c.name}.${name}`, handler: fn as object, cls: c })),
      );
  };

  it('runs every member route in a tenant transaction or on its own statement, never neither', async () => {
    const found = await routes();
    expect(found.length).toBeGreaterThan(20);
    const how = found.map(({ route, handler, cls }) => {
      const isPublic =
        Reflect.getMetadata(IS_PUBLIC, handler) === true ||
        Reflect.getMetadata(IS_PUBLIC, cls) === true;
      const own = Reflect.getMetadata(OWN_TRANSACTIONS, handler) === true;
      const interceptors = [
        ...((Reflect.getMetadata(INTERCEPTORS_METADATA, handler) as unknown[]) ?? []),
        ...((Reflect.getMetadata(INTERCEPTORS_METADATA, cls) as unknown[]) ?? []),
      ];
      const tenant = interceptors.includes(TenantContextInterceptor);
      return {
        route,
        runs: isPublic
          ? 'public'
          : own && !tenant
            ? 'own'
            : tenant && !own
              ? 'tenant'
              : 'neither or both',
      };
    });
    expect(how.filter((h) => h.runs === 'neither or both')).toEqual([]);
    // The one-statement routes and the event stream run on their own.
    expect(
      how
        .filter((h) => h.runs === 'own')
        .map((h) => h.route)
        .sort(),
    ).toEqual(
      [
        'EventsController.stream',
        'MessagesController.page',
        'MessagesController.send',
        'MessagesController.unreadCount',
        'ThreadsController.list',
        'ThreadsController.view',
      ].sort(),
    );
  });
});
