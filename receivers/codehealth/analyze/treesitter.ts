/**
 * Languages parsed with tree-sitter (web-tree-sitter, grammars as WebAssembly from npm: no native
 * build). A language is a grammar file plus a `TreeSitterRules` table naming its node types and
 * idioms; the walk below is shared. Python is the first (python.ts).
 */
import type { Node as TSNode, Parser as TSParser, Language as TSLanguage } from 'web-tree-sitter';
import type { ExemptReason, FunctionShape, Language, Stmt } from './types';

export interface TreeSitterRules {
  name: string;
  extensions: readonly string[];
  /** Absolute path of the grammar's .wasm file. */
  wasm: () => string;
  functionTypes: ReadonlySet<string>;
  /** Statement types whose bodies may define functions (if/try/with ...); nothing else is entered. */
  containerTypes: ReadonlySet<string>;
  classTypes: ReadonlySet<string>;
  /** A wrapper holding decorators and the definition (Python's decorated_definition). */
  decoratedType?: string;
  decoratorType?: string;
  commentType: string;
  stringTypes: ReadonlySet<string>;
  passTypes: ReadonlySet<string>;
  returnType: string;
  /** Parameter names of a function node (to recognise `return arg` pass-throughs). */
  parameterNames(fn: TSNode): Set<string>;
  /** Parameter names that are the receiver, not an input (Python's self and cls). */
  receiverNames: ReadonlySet<string>;
  raiseType: string;
  expressionStatementType: string;
  callType: string;
  /** Literal node types that are placeholders whatever their text (None, False, empty list/dict ...). */
  placeholder(node: TSNode): boolean;
  /** Whether a raised expression says "not implemented". */
  notImplemented(node: TSNode): boolean;
  /** Whether a call's function text is a logger or print. */
  logCallee(calleeText: string): boolean;
  /** Decorator text → exemption (abstractmethod → abstract, overload → overload). */
  decoratorExemption(text: string): ExemptReason | undefined;
  /** Class bases that make every member exempt (Protocol). */
  protocolBase(text: string): boolean;
  /** The docstring of a body: its first statement when it is a string. */
  docstringFirst: boolean;
}

let parserInit: Promise<typeof import('web-tree-sitter')> | undefined;
const languages = new Map<string, Promise<TSLanguage>>();

async function loadLanguage(rules: TreeSitterRules): Promise<{ parser: TSParser }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  parserInit ??= (async () => { const m = require('web-tree-sitter') as typeof import('web-tree-sitter'); await m.Parser.init(); return m; })();
  const m = await parserInit;
  let lang = languages.get(rules.name);
  if (!lang) {
    lang = m.Language.load(rules.wasm());
    languages.set(rules.name, lang);
  }
  const parser = new m.Parser();
  parser.setLanguage(await lang);
  return { parser };
}

export function treeSitterLanguage(rules: TreeSitterRules): Language & { ready(): Promise<void> } {
  let parser: TSParser | undefined;
  let loading: Promise<void> | undefined;
  const ready = () => (loading ??= loadLanguage(rules).then((l) => { parser = l.parser; }));
  return {
    name: rules.name,
    extensions: rules.extensions,
    ready,
    async functions(text) {
      if (!parser) await ready();
      const tree = parser!.parse(text);
      if (!tree) throw new Error('the parser gave no tree');
      try {
        const root = tree.rootNode;
        if (root.hasError) {
          const bad = firstError(root);
          throw new SyntaxError(`${bad ? `${bad.startPosition.row + 1}:${bad.startPosition.column + 1} ` : ''}syntax error`);
        }
        const out: FunctionShape[] = [];
        walk(rules, root, [], undefined, out);
        return out;
      } finally {
        tree.delete(); // trees live in the WebAssembly heap, not the JS one
      }
    },
  };
}

function firstError(n: TSNode): TSNode | undefined {
  if (n.isError || n.isMissing) return n;
  for (const c of n.children) {
    if (c && c.hasError) return firstError(c) ?? c;
  }
  return undefined;
}

function walk(rules: TreeSitterRules, node: TSNode, scope: string[], inherited: ExemptReason | undefined, out: FunctionShape[]): void {
  for (const child of node.namedChildren) {
    if (!child) continue;
    let def = child;
    let exempt = inherited;
    if (rules.decoratedType && child.type === rules.decoratedType) {
      def = child.childForFieldName('definition') ?? child;
      for (const d of child.namedChildren) {
        if (d && d.type === rules.decoratorType) exempt = rules.decoratorExemption(d.text.replace(/^@/, '').trim()) ?? exempt;
      }
    }
    if (rules.classTypes.has(def.type)) {
      const name = def.childForFieldName('name')?.text ?? '(class)';
      const bases = def.childForFieldName('superclasses');
      const isProtocol = !!bases && bases.namedChildren.some((b) => b && rules.protocolBase(b.text));
      const body = def.childForFieldName('body');
      if (body) walk(rules, body, [...scope, name], isProtocol ? 'protocol' : undefined, out);
      continue;
    }
    if (rules.functionTypes.has(def.type)) {
      const name = [...scope, def.childForFieldName('name')?.text ?? '(lambda)'].join('.');
      const body = def.childForFieldName('body');
      if (!body) continue;
      out.push(shape(rules, def, body, name, exempt));
      walk(rules, body, [name], undefined, out);
      continue;
    }
    // Functions defined under if/try/with still count; expressions are not entered (lambdas are
    // part of the function around them), which keeps the walk to the statement skeleton.
    if (rules.containerTypes.has(child.type)) walk(rules, child, scope, inherited, out);
  }
}

function shape(rules: TreeSitterRules, fn: TSNode, body: TSNode, name: string, exempt: ExemptReason | undefined): FunctionShape {
  const stmts: Stmt[] = [];
  const comments: string[] = [];
  let doc: string | undefined;
  const params = rules.parameterNames(fn);
  for (const s of body.namedChildren) {
    if (!s) continue;
    if (s.type === rules.commentType) { comments.push(s.text); continue; }
    const st = statement(rules, s, params);
    if (st.kind === 'string' && doc === undefined && stmts.length === 0 && rules.docstringFirst) doc = st.text;
    stmts.push(st);
  }
  // A comment on the `def` line after the colon sits before the block in the tree.
  for (const c of fn.namedChildren) if (c && c.type === rules.commentType) comments.push(c.text);
  return {
    name,
    line: fn.startPosition.row + 1,
    lines: fn.endPosition.row - fn.startPosition.row + 1,
    exempt,
    doc,
    body: stmts,
    comments,
    inputs: [...params].filter((p) => !rules.receiverNames.has(p) && !p.startsWith('_')).length,
  };
}

function statement(rules: TreeSitterRules, s: TSNode, params: Set<string>): Stmt {
  if (rules.passTypes.has(s.type)) return { kind: 'pass' };
  if (s.type === rules.expressionStatementType) {
    const e = s.namedChild(0);
    if (!e) return { kind: 'pass' };
    if (rules.stringTypes.has(e.type)) return { kind: 'string', text: e.text };
    if (rules.passTypes.has(e.type)) return { kind: 'pass' };
    if (e.type === rules.callType) {
      const callee = e.childForFieldName('function');
      if (callee && rules.logCallee(callee.text)) return { kind: 'log' };
    }
    return { kind: 'other' };
  }
  if (s.type === rules.returnType) {
    const v = s.namedChild(0);
    return { kind: 'return', placeholder: !v || rules.placeholder(v), passthrough: !!v && v.type === 'identifier' && params.has(v.text) };
  }
  if (s.type === rules.raiseType) {
    const v = s.namedChild(0);
    return v && rules.notImplemented(v) ? { kind: 'not_implemented' } : { kind: 'other' };
  }
  return { kind: 'other' };
}
