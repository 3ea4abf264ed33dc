/** Python: the tree-sitter-python grammar and its rules table. */
import type { Node as TSNode } from 'web-tree-sitter';
import { treeSitterLanguage } from './treesitter';

const NOT_IMPLEMENTED_MESSAGE = /not (yet )?implemented|unimplemented|\btodo\b|\bstub\b|implement me/i;

function stringText(n: TSNode): string {
  return n.namedChildren.filter((c) => c && c.type === 'string_content').map((c) => c!.text).join('');
}

/** A string holding the number zero ("0", "0.00"): how decimal types spell zero. */
function zeroString(n: TSNode): boolean {
  return n.type === 'string' && /^\s*[+-]?0*(\.0*)?\s*$/.test(stringText(n)) && /0/.test(stringText(n));
}

export const pythonLanguage = treeSitterLanguage({
  name: 'python',
  extensions: ['.py', '.pyi'],
  wasm: () => require.resolve('tree-sitter-python/tree-sitter-python.wasm'),
  functionTypes: new Set(['function_definition']),
  classTypes: new Set(['class_definition']),
  containerTypes: new Set(['block', 'if_statement', 'elif_clause', 'else_clause', 'try_statement', 'except_clause', 'except_group_clause', 'finally_clause', 'with_statement', 'for_statement', 'while_statement', 'match_statement', 'case_clause']),
  decoratedType: 'decorated_definition',
  decoratorType: 'decorator',
  commentType: 'comment',
  stringTypes: new Set(['string', 'concatenated_string']),
  passTypes: new Set(['pass_statement', 'ellipsis']),
  returnType: 'return_statement',
  parameterNames(fn) {
    const ps = fn.childForFieldName('parameters');
    const out = new Set<string>();
    for (const p of ps?.namedChildren ?? []) {
      if (!p) continue;
      const id = p.type === 'identifier' ? p : p.namedChildren.find((c) => c?.type === 'identifier');
      if (id) out.add(id.text);
    }
    return out;
  },
  receiverNames: new Set(['self', 'cls', 'mcs', 'metacls']),
  raiseType: 'raise_statement',
  expressionStatementType: 'expression_statement',
  callType: 'call',
  placeholder(n) {
    switch (n.type) {
      case 'none': case 'false': return true;
      case 'integer': case 'float': return Number(n.text.replace(/_/g, '')) === 0;
      case 'string': return stringText(n) === '';
      // Containers made only of placeholders: [], {}, {"total": 0, "items": []}
      case 'list': case 'tuple': case 'set': return n.namedChildren.every((c) => !!c && (c.type === 'comment' || this.placeholder(c)));
      case 'dictionary': return n.namedChildren.every((c) => !!c && (c.type === 'comment' || (c.type === 'pair' && !!c.childForFieldName('value') && (this.placeholder(c.childForFieldName('value')!) || /^(string|integer|float|true|false)$/.test(c.childForFieldName('value')!.type)))));
      case 'parenthesized_expression': return !!n.namedChild(0) && this.placeholder(n.namedChild(0)!);
      case 'call': {
        // An empty container, or a value type built from nothing or from zero: dict(), list(),
        // Decimal("0"), Money(0, ""). A class called with placeholder arguments builds a placeholder.
        const callee = n.childForFieldName('function')?.text ?? '';
        const args = n.childForFieldName('arguments')?.namedChildren ?? [];
        if (/^(dict|list|set|tuple|str|frozenset|int|float)$/.test(callee)) return args.every((a) => !!a && (this.placeholder(a) || zeroString(a)));
        if (!/^([a-z_]\w*\.)*[A-Z]\w*$/.test(callee) || args.length === 0) return false;
        return args.every((a) => !!a && (this.placeholder(a) || zeroString(a)));
      }
      default: return false;
    }
  },
  notImplemented(n) {
    const target = n.type === 'call' ? n.childForFieldName('function')?.text ?? '' : n.text;
    if (/^(NotImplementedError|NotImplemented)$/.test(target)) return true;
    if (n.type === 'call') {
      const arg = n.childForFieldName('arguments')?.namedChild(0);
      return !!arg && arg.type === 'string' && NOT_IMPLEMENTED_MESSAGE.test(stringText(arg));
    }
    return false;
  },
  logCallee: (t) => /^(print|pprint|(logging|logger|log|_logger|_log|LOGGER|LOG|self\.logger|self\.log|self\._logger|self\._log|cls\.logger|warnings)\.(debug|info|warning|warn|error|exception|critical|log))$/.test(t),
  decoratorExemption(t) {
    if (/^(abc\.)?abstract(method|property|classmethod|staticmethod)\b/.test(t)) return 'abstract';
    if (/^(typing\.|typing_extensions\.)?overload\b/.test(t)) return 'overload';
    return undefined;
  },
  protocolBase: (t) => /^(typing\.|typing_extensions\.)?Protocol(\[.*\])?$/.test(t),
  docstringFirst: true,
});
