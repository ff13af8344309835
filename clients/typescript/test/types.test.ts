import { join } from 'node:path';
import ts from 'typescript';

/** Wrong bodies and shapes must not compile (the fixture marks each with @ts-expect-error). */
describe('the client’s types', () => {
  it('refuse a wrong body, a wrong query and a wrong event field at compile time', () => {
    const fixture = join(__dirname, 'types-fixture.ts');
    const program = ts.createProgram([fixture], {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
      types: [],
      skipLibCheck: true,
    });
    const diagnostics = ts
      .getPreEmitDiagnostics(program)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(diagnostics).toEqual([]);
    // The fixture holds the expectations it claims to (a file without them would pass too).
    const text = ts.sys.readFile(fixture) ?? '';
    expect(text.match(/@ts-expect-error/g)?.length).toBeGreaterThanOrEqual(7);
  });
});
