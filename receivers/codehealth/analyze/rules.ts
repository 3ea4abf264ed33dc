/**
 * The stub rules, the same for every language. A language module reduces a function to a
 * `FunctionShape` (its statements, docstring and comments); `classify` decides.
 *
 * A function is a stub when its body does none of the work its signature promises:
 *   not_implemented     raise NotImplementedError / throw new Error("not implemented") (after optional logging)
 *   todo                a TODO/FIXME/XXX marker in a body that does nothing else real
 *   log_only            only logs or prints
 *   placeholder_return  only returns None/null/{}/[]/0/""/false while its name or docstring promises a result
 *   pass_only           only `pass`, `...` and/or a docstring
 *   empty_body          nothing at all
 * Not stubs: exempt functions (abstract, protocol members, overload signatures, test files),
 * deliberate no-ops (a non-TODO comment or a docstring saying so in an otherwise empty body, or a
 * name like `noop`), constructors whose parameters do the work, and every body with a real statement,
 * however short (`return self._x`).
 */
import type { FunctionShape, StubKind, Verdict } from './types';

const TODO = /\b(TODO|FIXME|XXX|HACK)\b|\bnot (yet )?implemented\b|\bunimplemented\b/i;
const NOOP_NAME = /(^|[._])(noop|nop|no_op|ignore|_?pass(through)?)$|noop/i;
const NOOP_TEXT = /\b(no-?op|nothing to (do|release|close|clean)|intentionally|deliberately|on purpose|does nothing|do nothing|left empty|default (is|does) nothing)\b/i;
/**
 * Names that promise a computed result: a constant placeholder from these is a stub. Predicates
 * (`is_`, `has_`, `can_`, `should_`) and hooks (`on_`, `before_`) legitimately return constants.
 */
const PROMISING_NAME = /^(get|fetch|load|read|compute|calc|calculate|parse|build|make|create|generate|find|search|query|list|lookup|resolve|collect|aggregate|analy[sz]e|process|transform|convert|render|format|serialize|deserialize|encode|decode|count|sum|score|rank|estimate|predict|extract|summari[sz]e|merge|diff|compare|sort|filter|group|select|download|upload|sync|import|export|validate|check|verify|evaluate|authenticate|authorize|translate|map|reduce|to)([A-Z_]|$)/;
const PREDICATE_NAME = /^(is|has|can|should|was|will|needs|supports|allow|allows|uses|enabled|disabled|on|before|after|handle_default)([A-Z_]|$)/;
/** Names that announce a constant default: `default_timeout`, `empty`, `none`, `null_object`. */
const DEFAULT_NAME = /(^|_)(default|empty|none|null|zero|identity|dummy|fallback)(_|$)|^(default|empty|none|null|zero|identity|dummy|fallback)[A-Z]|[a-z](Default|Empty|Fallback)$/;
/** Event hooks: an empty body is the deliberate default that subclasses override. */
const HOOK_NAME = /^(on|before|after)([A-Z_]|$)/;

function baseName(qualified: string): string {
  const parts = qualified.split('.');
  return parts[parts.length - 1].replace(/^_+/, '');
}

function promisesResult(shape: FunctionShape, intentional: boolean): boolean {
  const name = baseName(shape.name);
  if (PREDICATE_NAME.test(name)) return false;
  if (PROMISING_NAME.test(name)) return true;
  // A function that takes inputs and ignores every one of them to hand back an empty value
  // (`next_run_at(name): return None`, `priceFor(item) { return 0; }`) computes nothing from what it
  // is given: whatever its name, it stands in for work. Deliberate defaults of this shape are
  // predicates and hooks (above), no-ops, or say so (a comment or a docstring, see `intentional`).
  if ((shape.inputs ?? 0) > 0 && !intentional && !DEFAULT_NAME.test(name)) return true;
  // Capitalised functions are components or factories (`Chart`, `UserCard`): they promise a rendering.
  if (/^[A-Z]/.test(name) && !/^[A-Z0-9_]+$/.test(name)) return true;
  // A docstring describing what the function does promises more than a constant.
  const doc = (shape.doc ?? '').replace(/^[\s"'/*]+|[\s"'/*]+$/g, '');
  return doc.length > 0 && !NOOP_TEXT.test(doc) && !/\b(default|always|constant)\b/i.test(doc);
}

export function classify(shape: FunctionShape): Verdict {
  if (shape.exempt) return { status: 'exempt', reason: shape.exempt };
  // Docstrings and stray strings do no work; the first one is the docstring.
  const stmts = shape.body.filter((s) => s.kind !== 'string');
  // A /** doc */ block inside a body plays the part of a docstring: it says what the function is
  // for, not why it is empty, so it counts with the strings rather than as an explaining comment.
  const docInBody = shape.comments.filter((c) => c.startsWith('/**'));
  const comments = shape.comments.filter((c) => !c.startsWith('/**'));
  const strings = [...shape.body.filter((s): s is { kind: 'string'; text: string } => s.kind === 'string').map((s) => s.text), ...docInBody];
  const hasTodo = shape.comments.some((c) => TODO.test(c)) || strings.some((s) => TODO.test(s));
  // With a TODO marker, returning an argument unchanged (`return rows  # TODO validate`) is a placeholder too.
  const real = stmts.filter((s) => s.kind === 'other' || (s.kind === 'return' && !s.placeholder && !(hasTodo && s.passthrough)));
  if (real.length) return { status: 'implemented' };

  if (stmts.some((s) => s.kind === 'not_implemented')) return { status: 'stub', kind: 'not_implemented' };
  if (hasTodo) return stub('todo');
  if (stmts.length && stmts.every((s) => s.kind === 'log' || s.kind === 'pass')) {
    if (stmts.some((s) => s.kind === 'log')) return stub('log_only');
  }
  // From here the body is only pass / placeholder returns / logging mixed with returns.
  const returns = stmts.filter((s) => s.kind === 'return');
  if (stmts.some((s) => s.kind === 'log')) return stub('log_only');
  const intentional = NOOP_NAME.test(baseName(shape.name)) || HOOK_NAME.test(baseName(shape.name)) || comments.some((c) => c.trim().length > 0) || strings.some((s) => NOOP_TEXT.test(s));
  if (returns.length) {
    if (!promisesResult(shape, intentional)) return { status: 'implemented' };
    return stub('placeholder_return');
  }
  if (intentional || shape.hasImplicitWork) return { status: 'exempt', reason: 'noop' };
  if (stmts.length || strings.length) return stub('pass_only');
  return stub('empty_body');
}

function stub(kind: StubKind): Verdict {
  return { status: 'stub', kind };
}

/** Test files: their functions are helpers and fixtures, counted as test files rather than scored. */
export function isTestFile(relPath: string): boolean {
  const p = relPath.replace(/\\/g, '/');
  return /(^|\/)(tests?|__tests__|spec|testing)\//.test(p) || /(^|\/)(test_[^/]*\.py|[^/]*_test\.py|conftest\.py|[^/]*\.(test|spec)\.[cm]?[jt]sx?)$/.test(p);
}
