/**
 * What the analysis finds in one source file, independent of the language it is written in.
 * Each language module turns its syntax tree into `FunctionShape`s; `rules.ts` decides, with the
 * same rules for every language, whether a function is implemented, a stub (and of which kind), or
 * exempt (abstract, protocol, overload, test helper).
 */

export const STUB_KINDS = ['empty_body', 'pass_only', 'not_implemented', 'placeholder_return', 'todo', 'log_only'] as const;
export type StubKind = (typeof STUB_KINDS)[number];

/** Why a function is neither counted as implemented nor as a stub. */
export type ExemptReason = 'abstract' | 'protocol' | 'overload' | 'test' | 'noop';

/** One statement of a function body, reduced to what the rules need. */
export type Stmt =
  /** `pass`, `...`, an empty statement `;` */
  | { kind: 'pass' }
  /** A string literal on its own (docstring or stray string) */
  | { kind: 'string'; text: string }
  /** raise/throw of something that says "not implemented" */
  | { kind: 'not_implemented' }
  /** return/arrow expression body; `placeholder` when the value is None/null/undefined/{}/[]/0/""/false or nothing */
  | { kind: 'return'; placeholder: boolean; passthrough?: boolean }
  /** A call whose only effect is to log or print */
  | { kind: 'log' }
  | { kind: 'other' };

export interface FunctionShape {
  /** Qualified name: `Class.method`, `function`, `outer.inner`. */
  name: string;
  /** 1-based line of the definition. */
  line: number;
  /** Lines the function spans. */
  lines: number;
  /** Set by the language module for syntax-level exemptions (abstract, overload, protocol members). */
  exempt?: ExemptReason;
  /** Docstring (Python) or leading JSDoc text, when there is one. */
  doc?: string;
  /** The body's statements, in order (a Python docstring is the first, as a `string`). */
  body: Stmt[];
  /** Text of the comments inside the body. */
  comments: string[];
  /**
   * Parameters the caller passes in, leaving out `self`/`cls`/`this` and names marked unused with a
   * leading `_` (or `_` alone). A trivial body ignores all of them.
   */
  inputs?: number;
  /** Whether the body contains parameter properties or similar declarations that make an empty body real (TS constructors). */
  hasImplicitWork?: boolean;
}

export type Verdict = { status: 'implemented' } | { status: 'stub'; kind: StubKind } | { status: 'exempt'; reason: ExemptReason };

export interface FunctionResult {
  name: string;
  line: number;
  lines: number;
  verdict: Verdict;
}

export interface FileAnalysis {
  language: string;
  /** Non-blank lines. */
  loc: number;
  functions: FunctionResult[];
}

/** A language: the file names it claims and how to turn a file into function shapes. */
export interface Language {
  name: string;
  extensions: readonly string[];
  /** Throws SyntaxError-like errors with a message when the file does not parse. */
  functions(text: string, fileName: string): FunctionShape[] | Promise<FunctionShape[]>;
}
