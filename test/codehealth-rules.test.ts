/**
 * Stub rules: one case per stub kind and per non-stub trap, in Python and TypeScript, and the
 * precision/recall on the labelled fixture sets (test/fixtures/codehealth/labelled).
 */
import t from 'tap';
import { join } from 'node:path';
import { analyzeSource, Verdict } from '../receivers/codehealth/analyze';
import { measure } from '../bench/codehealth/accuracy';

async function verdict(code: string, file: string, fn: string): Promise<Verdict> {
  const a = await analyzeSource(code, file);
  const f = a.functions.find((x) => x.name === fn);
  if (!f) throw new Error(`no function ${fn} in ${a.functions.map((x) => x.name).join(', ')}`);
  return f.verdict;
}

const stubCases: Array<[string, string, string, string, string]> = [
  // [kind, language file, code, function]
  ['empty_body', 'a.ts', 'function save(x: number): void {}', 'save', 'empty TS body'],
  ['empty_body', 'a.js', 'const handler = () => {};', 'handler', 'empty arrow function'],
  ['pass_only', 'a.py', 'def save(x):\n    pass\n', 'save', 'pass'],
  ['pass_only', 'a.py', 'def save(x):\n    ...\n', 'save', 'ellipsis'],
  ['pass_only', 'a.py', 'def save(x):\n    """Write x to disk."""\n', 'save', 'docstring only'],
  ['not_implemented', 'a.py', 'def save(x):\n    raise NotImplementedError\n', 'save', 'raise NotImplementedError'],
  ['not_implemented', 'a.py', 'def save(x):\n    raise RuntimeError("not implemented yet")\n', 'save', 'raise with a not-implemented message'],
  ['not_implemented', 'a.ts', 'class S { save() { throw new Error("not implemented"); } }', 'S.save', 'throw new Error("not implemented")'],
  ['not_implemented', 'a.ts', 'function f() { console.warn("x"); throw new Error("TODO"); }', 'f', 'log then throw TODO'],
  ['placeholder_return', 'a.py', 'def fetch_users():\n    return []\n', 'fetch_users', 'fetch returning []'],
  ['placeholder_return', 'a.py', 'def thing():\n    """Compute the monthly totals."""\n    return None\n', 'thing', 'docstring promising more'],
  ['placeholder_return', 'a.ts', 'function getTotal(): { sum: number } { return { sum: 0 }; }', 'getTotal', 'object of zeros'],
  ['placeholder_return', 'a.tsx', 'function Chart() { return null; }', 'Chart', 'component rendering null'],
  ['placeholder_return', 'a.py', 'class S:\n    def next_run_at(self, name):\n        return None\n', 'S.next_run_at', 'ignores its inputs to return None'],
  ['placeholder_return', 'a.ts', 'function priceFor(item: Item): number { return 0; }', 'priceFor', 'ignores its inputs to return 0'],
  ['placeholder_return', 'a.py', 'def price(item):\n    return Decimal("0")\n', 'price', 'a value type built from zero'],
  ['pass_only', 'a.ts', 'function track(page: string): void {\n  /** Sends a page view to analytics. */\n}', 'track', 'doc block as the only content'],
  ['todo', 'a.py', 'def save(x):\n    # TODO: write it\n    pass\n', 'save', 'TODO comment + pass'],
  ['todo', 'a.ts', 'function merge(a: number[], b: number[]) {\n  // FIXME merge\n  return a;\n}', 'merge', 'FIXME + pass-through return'],
  ['log_only', 'a.py', 'def save(x):\n    print("saving", x)\n', 'save', 'print only'],
  ['log_only', 'a.py', 'def save(x):\n    logger.info("saving %s", x)\n', 'save', 'logger only'],
  ['log_only', 'a.ts', 'function save(x: number) { console.log("saving", x); }', 'save', 'console.log only'],
];

for (const [kind, file, code, fn, what] of stubCases) {
  t.test(`stub ${kind}: ${what} (${file})`, async (t) => {
    t.same(await verdict(code, file, fn), { status: 'stub', kind });
  });
}

const traps: Array<[string, string, string, string]> = [
  ['a.py', 'import abc\nclass A(abc.ABC):\n    @abc.abstractmethod\n    def run(self):\n        raise NotImplementedError\n', 'A.run', 'abstract method'],
  ['a.py', 'from typing import Protocol\nclass P(Protocol):\n    def f(self) -> int: ...\n', 'P.f', 'protocol member'],
  ['a.py', 'from typing import overload\n@overload\ndef f(x: int) -> int: ...\ndef f(x):\n    return x\n', 'f', 'overload signature (first f)'],
  ['a.py', 'class A:\n    def x(self):\n        return self._x\n', 'A.x', 'return self._x'],
  ['a.py', 'def is_enabled():\n    return False\n', 'is_enabled', 'predicate returning a constant'],
  ['a.py', 'def identity(x):\n    return x\n', 'identity', 'identity'],
  ['a.py', 'class A:\n    def __exit__(self, *a):\n        pass  # nothing to release\n', 'A.__exit__', 'explained no-op'],
  ['a.py', 'class A:\n    def on_save(self):\n        pass\n', 'A.on_save', 'hook with a default no-op'],
  ['test_a.py', 'def helper():\n    pass\n', 'helper', 'test helper (test file)'],
  ['a.ts', 'abstract class A { abstract run(): void; ok() { return 1; } }', 'A.ok', 'abstract class (abstract member has no body)'],
  ['a.ts', 'class A { constructor(private readonly x: number) {} }', 'A.constructor', 'parameter-property constructor'],
  ['a.ts', 'class A { get x() { return this._x; } }', 'A.get x', 'getter one-liner'],
  ['a.ts', 'export const noop = () => {};', 'noop', 'noop by name'],
  ['a.ts', 'function ignore() {\n  // deliberately empty: errors are counted elsewhere\n}', 'ignore', 'commented empty body'],
  ['a.ts', 'function emptyList(): string[] { return []; }', 'emptyList', 'constant-named function'],
  ['a.py', 'class Q:\n    def priority(self, job):\n        # every job is equal until the queue supports priorities\n        return 0\n', 'Q.priority', 'explained constant default'],
  ['a.py', 'class Q:\n    def default_timeout(self, request):\n        return None\n', 'Q.default_timeout', 'default-named constant'],
  ['a.ts', 'function retriesFor(_req: Request): number { return 0; }', 'retriesFor', 'inputs marked unused with _'],
  ['a.py', 'def price(item):\n    return Decimal("9.99")\n', 'price', 'a value type built from a real constant'],
];

for (const [file, code, fn, what] of traps) {
  t.test(`not a stub: ${what}`, async (t) => {
    const a = await analyzeSource(code, file);
    const f = a.functions.find((x) => x.name === fn);
    if (file.startsWith('test_')) {
      t.ok(f, 'the analysis sees the function; the scanner leaves test files out of the score');
      return;
    }
    t.ok(f, `found ${fn}`);
    t.not(f!.verdict.status, 'stub', JSON.stringify(f!.verdict));
  });
}

t.test('interfaces, overload signatures and declarations are not counted as functions', async (t) => {
  const a = await analyzeSource('interface I { f(): void; }\ndeclare function g(): void;\nfunction h(a: string): void;\nfunction h(a: any) { return a; }\n', 'a.ts');
  t.same(a.functions.map((f) => f.name), ['h']);
});

t.test('syntax errors are reported, not guessed at', async (t) => {
  await t.rejects(analyzeSource('def f(:\n  pass\n', 'a.py'), /syntax error/);
  await t.rejects(analyzeSource('function f( {', 'a.ts'), SyntaxError);
});

t.test('precision and recall on the labelled fixtures', async (t) => {
  const base = join(__dirname, 'fixtures/codehealth/labelled');
  let total = 0;
  for (const [set, min] of [['dev', 0.95], ['dev2', 0.95], ['heldout', 0.9], ['heldout2', 0.9]] as const) {
    const r = await measure(join(base, set));
    total += r.functions;
    t.same(r.errors.filter((e) => /no label|without a function/.test(e)), [], `${set}: every function labelled`);
    t.ok(r.precision >= min, `${set} precision ${r.precision}`);
    t.ok(r.recall >= min, `${set} recall ${r.recall}`);
  }
  t.ok(total >= 200, `${total} labelled functions`);
});
