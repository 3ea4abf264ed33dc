/**
 * TypeScript and JavaScript through the TypeScript compiler API (`ts.createSourceFile`: a parse
 * only, no type checking, no program). Counted: function declarations, methods, constructors,
 * accessors, and function or arrow expressions bound to a name (variable, property, class field).
 * Anonymous callbacks belong to the function around them. Bodiless declarations (interface members,
 * overload signatures, `declare`, abstract members) are not functions with a body, so they are not
 * counted at all.
 */
import type * as TS from 'typescript';
import type { FunctionShape, Language, Stmt } from './types';

// typescript is large: loaded on first use, so a collector without the receiver never pays for it.
let tsModule: typeof TS | undefined;
function ts(): typeof TS {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (tsModule ??= require('typescript') as typeof TS);
}

/** The rules table: what a log call and a "not implemented" error look like in JS/TS. */
const RULES = {
  logReceivers: /^(console|logger|log|this\.logger|this\.log|this\.settings\.logger|debug)$/,
  logMethods: /^(log|info|warn|warning|error|debug|trace|fatal|dir|table)$/,
  notImplementedMessage: /not (yet )?implemented|unimplemented|\btodo\b|\bstub\b|not supported yet|implement me/i,
  notImplementedClasses: /^(NotImplementedError|NotImplementedException|UnimplementedError)$/,
};

export const typescriptLanguage: Language = {
  name: 'typescript',
  extensions: ['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs'],
  functions(text, fileName) {
    const t = ts();
    const kind = /\.tsx$|\.jsx$/.test(fileName) ? t.ScriptKind.TSX : /\.[cm]?js$/.test(fileName) ? t.ScriptKind.JS : t.ScriptKind.TS;
    // No parent pointers and no JSDoc parsing: both cost as much as the parse itself and the rules
    // need neither (doc comments are read from the text when a rule asks).
    const sf = t.createSourceFile(fileName, text, { languageVersion: t.ScriptTarget.Latest, jsDocParsingMode: t.JSDocParsingMode.ParseNone }, false, kind);
    const diags = (sf as unknown as { parseDiagnostics?: TS.Diagnostic[] }).parseDiagnostics ?? [];
    if (diags.length) {
      const d = diags[0];
      const pos = d.start !== undefined ? sf.getLineAndCharacterOfPosition(d.start) : undefined;
      throw new SyntaxError(`${pos ? `${pos.line + 1}:${pos.character + 1} ` : ''}${t.flattenDiagnosticMessageText(d.messageText, ' ')}`);
    }
    const out: FunctionShape[] = [];
    visit(t, sf, sf, [], out);
    return out;
  },
};

function visit(t: typeof TS, sf: TS.SourceFile, node: TS.Node, scope: string[], out: FunctionShape[], bindingName?: string): void {
  if (t.isInterfaceDeclaration(node) || t.isTypeAliasDeclaration(node) || t.isModuleDeclaration(node) && hasModifier(t, node, t.SyntaxKind.DeclareKeyword)) return;
  // Types, imports and plain tokens hold no function bodies: not entered.
  if (t.isTypeNode(node) || t.isImportDeclaration(node) || t.isIdentifier(node) || t.isLiteralExpression(node) || node.kind < t.SyntaxKind.FirstNode) return;
  if (t.isClassLike(node)) {
    const name = node.name?.text ?? bindingName ?? '(anonymous class)';
    node.members.forEach((m) => visit(t, sf, m, [...scope, name], out));
    return;
  }
  if (t.isVariableDeclaration(node) && node.initializer && t.isClassExpression(node.initializer) && t.isIdentifier(node.name)) {
    visit(t, sf, node.initializer, scope, out, node.name.text);
    return;
  }
  const fn = functionOf(t, sf, node);
  if (fn && fn.body) {
    const name = [...scope, fn.name].join('.');
    out.push(shape(t, sf, fn.node, fn.body, name));
    const inner = [...scope, fn.name];
    t.forEachChild(fn.body, (c) => {
      if (mayHoldFunction(sf.text, c.pos, c.end)) visit(t, sf, c, inner, out);
    });
    return;
  }
  t.forEachChild(node, (c) => {
    if (mayHoldFunction(sf.text, c.pos, c.end)) visit(t, sf, c, scope, out);
  });
}

/**
 * Every function with a body has a `{` (a block, or a class or object around a method) or an arrow
 * `=>`. A node whose text has neither holds no function, so the walk skips it: most statements of
 * a body (calls, assignments, returns of expressions) are passed over without visiting their
 * sub-expressions. A `{` in a string or comment only costs a visit, never hides a function.
 */
function mayHoldFunction(text: string, pos: number, end: number): boolean {
  for (let i = pos; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 123 /* { */ || (c === 62 /* > */ && text.charCodeAt(i - 1) === 61 /* = */)) return true;
  }
  return false;
}

type FnNode = TS.FunctionLikeDeclaration;

/** A named function-like node with its name, or undefined for anonymous callbacks and non-functions. */
function functionOf(t: typeof TS, sf: TS.SourceFile, node: TS.Node): { node: FnNode; name: string; body?: TS.ConciseBody } | undefined {
  if (t.isFunctionDeclaration(node) || t.isMethodDeclaration(node) || t.isGetAccessorDeclaration(node) || t.isSetAccessorDeclaration(node)) {
    const name = node.name ? (t.isGetAccessorDeclaration(node) ? 'get ' : t.isSetAccessorDeclaration(node) ? 'set ' : '') + propName(t, sf, node.name) : 'default';
    return { node, name, body: node.body };
  }
  if (t.isConstructorDeclaration(node)) return { node, name: 'constructor', body: node.body };
  if ((t.isVariableDeclaration(node) || t.isPropertyDeclaration(node) || t.isPropertyAssignment(node)) && node.initializer) {
    const init = skipParens(t, node.initializer);
    if (t.isArrowFunction(init) || t.isFunctionExpression(init)) return { node: init, name: propName(t, sf, node.name), body: init.body };
  }
  return undefined;
}

function skipParens(t: typeof TS, e: TS.Expression): TS.Expression {
  while (t.isParenthesizedExpression(e) || t.isAsExpression(e) || t.isSatisfiesExpression(e)) e = e.expression;
  return e;
}

function propName(t: typeof TS, sf: TS.SourceFile, n: TS.Node): string {
  if (t.isIdentifier(n) || t.isPrivateIdentifier(n) || t.isStringLiteral(n) || t.isNumericLiteral(n)) return n.text;
  return n.getText(sf);
}

function hasModifier(t: typeof TS, node: TS.Node, kind: TS.SyntaxKind): boolean {
  return !!(t.canHaveModifiers(node) && t.getModifiers(node)?.some((m) => m.kind === kind));
}

function shape(t: typeof TS, sf: TS.SourceFile, fn: FnNode, body: TS.ConciseBody, name: string): FunctionShape {
  const start = sf.getLineAndCharacterOfPosition(fn.getStart(sf)).line;
  const end = sf.getLineAndCharacterOfPosition(fn.getEnd()).line;
  const params = new Set(fn.parameters.map((p) => (t.isIdentifier(p.name) ? p.name.text : '')).filter(Boolean));
  const stmts: Stmt[] = t.isBlock(body) ? body.statements.map((s) => statement(t, sf, s, params)) : [expressionStmt(t, sf, body, true, params)];
  // Comments and doc only matter when the body does nothing real (see rules.ts): skip the work otherwise.
  const trivial = !stmts.some((s) => s.kind === 'other' || (s.kind === 'return' && !s.placeholder && !s.passthrough));
  const doc = trivial ? docComment(t, sf, fn) : undefined;
  return {
    name,
    line: start + 1,
    lines: end - start + 1,
    doc,
    body: stmts,
    comments: trivial && t.isBlock(body) ? commentsIn(sf, body) : [],
    inputs: fn.parameters.filter((p) => !t.isIdentifier(p.name) || (p.name.text !== 'this' && !p.name.text.startsWith('_'))).length,
    // `constructor(private readonly x: X) {}` assigns its parameters: an empty body is real work.
    hasImplicitWork: t.isConstructorDeclaration(fn) && fn.parameters.some((p) => t.getModifiers(p)?.length),
  };
}

function commentsIn(sf: TS.SourceFile, body: TS.Block): string[] {
  const text = sf.text.slice(body.getStart(sf) + 1, body.getEnd() - 1);
  // Comments are trivia in the TS tree: the compiler's scanner, run over the body with trivia kept,
  // yields them (and keeps "//" inside string literals out).
  const out: string[] = [];
  const scanner = ts().createScanner(ts().ScriptTarget.Latest, false, sf.languageVariant, text);
  for (let k = scanner.scan(); k !== ts().SyntaxKind.EndOfFileToken; k = scanner.scan()) {
    if (k === ts().SyntaxKind.SingleLineCommentTrivia || k === ts().SyntaxKind.MultiLineCommentTrivia) out.push(scanner.getTokenText());
  }
  return out;
}

/** The /** ... *\/ comment right before a function (or the statement declaring it), if any. */
function docComment(t: typeof TS, sf: TS.SourceFile, fn: FnNode): string | undefined {
  const ranges = t.getLeadingCommentRanges(sf.text, fn.pos) ?? [];
  const docs = ranges.filter((r) => sf.text.startsWith('/**', r.pos)).map((r) => sf.text.slice(r.pos, r.end));
  return docs.length ? docs.join('\n') : undefined;
}

function statement(t: typeof TS, sf: TS.SourceFile, s: TS.Statement, params: Set<string>): Stmt {
  if (t.isEmptyStatement(s)) return { kind: 'pass' };
  if (t.isReturnStatement(s)) return returnOf(t, sf, s.expression, params);
  if (t.isThrowStatement(s)) return isNotImplemented(t, sf, s.expression) ? { kind: 'not_implemented' } : { kind: 'other' };
  if (t.isExpressionStatement(s)) return expressionStmt(t, sf, s.expression, false, params);
  return { kind: 'other' };
}

function returnOf(t: typeof TS, sf: TS.SourceFile, e: TS.Expression | undefined, params: Set<string>): Stmt {
  if (!e) return { kind: 'return', placeholder: true };
  const inner = skipParens(t, e);
  return { kind: 'return', placeholder: isPlaceholder(t, sf, e), passthrough: t.isIdentifier(inner) && params.has(inner.text) };
}

function expressionStmt(t: typeof TS, sf: TS.SourceFile, e: TS.Expression, isArrowBody: boolean, params: Set<string>): Stmt {
  e = skipParens(t, e);
  if (t.isStringLiteral(e) || t.isNoSubstitutionTemplateLiteral(e)) return isArrowBody ? { kind: 'return', placeholder: e.text === '' } : { kind: 'string', text: e.text };
  if (t.isCallExpression(e) && isLogCall(t, sf, e)) return { kind: 'log' };
  if (t.isVoidExpression(e) && t.isNumericLiteral(e.expression)) return { kind: 'return', placeholder: true };
  if (isArrowBody) return returnOf(t, sf, e, params);
  return { kind: 'other' };
}

function isLogCall(t: typeof TS, sf: TS.SourceFile, call: TS.CallExpression): boolean {
  const callee = call.expression;
  if (!t.isPropertyAccessExpression(callee)) return false;
  return RULES.logMethods.test(callee.name.text) && RULES.logReceivers.test(callee.expression.getText(sf));
}

function isPlaceholder(t: typeof TS, sf: TS.SourceFile, e: TS.Expression): boolean {
  e = skipParens(t, e);
  switch (e.kind) {
    case t.SyntaxKind.NullKeyword:
    case t.SyntaxKind.FalseKeyword:
      return true;
  }
  if (t.isIdentifier(e)) return e.text === 'undefined';
  if (t.isNumericLiteral(e)) return Number(e.text) === 0;
  if (t.isStringLiteral(e) || t.isNoSubstitutionTemplateLiteral(e)) return e.text === '';
  // Literals made only of placeholders: [], {}, { amount: 0, currency: '' }, [null, null]
  if (t.isArrayLiteralExpression(e)) return e.elements.every((x) => isPlaceholder(t, sf, x));
  if (t.isObjectLiteralExpression(e)) return e.properties.every((p) => t.isPropertyAssignment(p) && (isPlaceholder(t, sf, p.initializer) || isConstantLiteral(t, p.initializer)));
  // An empty JSX element or fragment: <div />, <></>
  if (t.isJsxSelfClosingElement(e)) return e.attributes.properties.length === 0;
  if (t.isJsxFragment(e) || t.isJsxElement(e)) return e.children.every((c) => t.isJsxText(c) && c.containsOnlyTriviaWhiteSpaces) && (!t.isJsxElement(e) || e.openingElement.attributes.properties.length === 0);
  if (t.isVoidExpression(e)) return true;
  // Promise.resolve(null), Promise.resolve([]) ... in async-looking stubs
  if (t.isCallExpression(e) && e.expression.getText(sf) === 'Promise.resolve') return e.arguments.length === 0 || isPlaceholder(t, sf, e.arguments[0]);
  return false;
}

/** A literal constant (a string, number or boolean) — inside an otherwise empty object it is a default, not data. */
function isConstantLiteral(t: typeof TS, e: TS.Expression): boolean {
  e = skipParens(t, e);
  return t.isStringLiteral(e) || t.isNumericLiteral(e) || e.kind === t.SyntaxKind.TrueKeyword || e.kind === t.SyntaxKind.FalseKeyword;
}

function isNotImplemented(t: typeof TS, sf: TS.SourceFile, e: TS.Expression | undefined): boolean {
  if (!e) return false;
  e = skipParens(t, e);
  if (t.isNewExpression(e) || t.isCallExpression(e)) {
    const cls = e.expression.getText(sf);
    if (RULES.notImplementedClasses.test(cls)) return true;
    const first = e.arguments?.[0];
    if (first && (t.isStringLiteral(first) || t.isNoSubstitutionTemplateLiteral(first) || t.isTemplateExpression(first))) {
      return RULES.notImplementedMessage.test(first.getText(sf));
    }
    return false;
  }
  if (t.isStringLiteral(e) || t.isNoSubstitutionTemplateLiteral(e)) return RULES.notImplementedMessage.test(e.text);
  return false;
}
