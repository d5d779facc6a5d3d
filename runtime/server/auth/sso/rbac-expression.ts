/**
 * A safe evaluator of the expr-lang subset Argo's documentation uses in `workflows.argoproj.io/rbac-rule`
 * (SPEC §7.7): string, number, boolean, `nil` and list literals; claim names; parentheses; `==`, `!=`,
 * `in`, `not in`, `startsWith`, `endsWith`, `contains`, `matches`; `not`/`!`, `and`/`&&`, `or`/`||`.
 * It never calls anything and reads claims only as own properties, so no text can run code or reach
 * JavaScript prototypes. An absent claim is `nil` (empty), not an error: Argo's `unknown name groups`.
 */

export type Value = string | number | boolean | null | readonly Value[];

type Node =
  | { readonly kind: 'literal'; readonly value: Value }
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'list'; readonly items: readonly Node[] }
  | { readonly kind: 'not'; readonly operand: Node }
  | { readonly kind: 'matches'; readonly subject: Node; readonly pattern: RegExp }
  | { readonly kind: 'binary'; readonly operator: BinaryOperator; readonly left: Node; readonly right: Node };

type BinaryOperator = 'or' | 'and' | '==' | '!=' | 'in' | 'not in' | 'startsWith' | 'endsWith' | 'contains';

/** A rule that cannot be parsed or evaluated; the message says where and why. */
export class RuleError extends Error {}

/** A parsed rule, ready to evaluate against many sessions. */
export interface RbacRule {
  readonly source: string;
  /** True or false; throws RuleError when the rule is not boolean or compares what cannot be compared. */
  evaluate(claims: Readonly<Record<string, unknown>>): boolean;
}

const MAX_RULE_LENGTH = 4096;
const MAX_DEPTH = 64;

/** Parses a rule, compiling the pattern of each `matches`; throws RuleError naming the position of the first problem. */
export function parseRule(source: string): RbacRule {
  if (source.length > MAX_RULE_LENGTH) throw new RuleError(`rule is longer than ${MAX_RULE_LENGTH} characters`);
  const tree = new Parser(tokenize(source)).parseAll();
  return {
    source,
    evaluate(claims) {
      const result = evaluate(tree, claims);
      if (typeof result !== 'boolean') throw new RuleError(`rule result is ${describe(result)}, not a boolean`);
      return result;
    },
  };
}

type Token =
  | { readonly type: 'string' | 'number'; readonly value: string | number; readonly at: number }
  | { readonly type: 'word' | 'symbol'; readonly value: string; readonly at: number };

const SYMBOLS = ['==', '!=', '&&', '||', '!', '(', ')', '[', ']', ','];

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const char = source[i]!;
    if (/\s/.test(char)) {
      i++;
    } else if (char === '"' || char === "'") {
      const { value, end } = readString(source, i);
      tokens.push({ type: 'string', value, at: i });
      i = end;
    } else if (/[0-9]/.test(char)) {
      const match = /^[0-9]+(?:\.[0-9]+)?/.exec(source.slice(i))![0];
      tokens.push({ type: 'number', value: Number(match), at: i });
      i += match.length;
    } else if (/[A-Za-z_]/.test(char)) {
      const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i))![0];
      tokens.push({ type: 'word', value: match, at: i });
      i += match.length;
    } else {
      const symbol = SYMBOLS.find((candidate) => source.startsWith(candidate, i));
      if (symbol === undefined) throw new RuleError(`unexpected character ${JSON.stringify(char)} at ${i}`);
      tokens.push({ type: 'symbol', value: symbol, at: i });
      i += symbol.length;
    }
  }
  return tokens;
}

const ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'" };

function readString(source: string, start: number): { value: string; end: number } {
  const quote = source[start];
  let value = '';
  for (let i = start + 1; i < source.length; i++) {
    const char = source[i]!;
    if (char === quote) return { value, end: i + 1 };
    if (char === '\\') {
      const escaped = ESCAPES[source[i + 1] ?? ''];
      if (escaped === undefined) throw new RuleError(`unknown escape at ${i}`);
      value += escaped;
      i++;
    } else {
      value += char;
    }
  }
  throw new RuleError(`unterminated string starting at ${start}`);
}

const COMPARISONS: Readonly<Record<string, BinaryOperator | 'matches'>> = {
  '==': '==',
  '!=': '!=',
  in: 'in',
  startsWith: 'startsWith',
  endsWith: 'endsWith',
  contains: 'contains',
  matches: 'matches',
};

/** Precedence climbing: or < and < comparison < unary. */
class Parser {
  #position = 0;
  #depth = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  parseAll(): Node {
    const node = this.#or();
    const extra = this.tokens[this.#position];
    if (extra !== undefined) throw new RuleError(`unexpected ${JSON.stringify(extra.value)} at ${extra.at}`);
    return node;
  }

  #peek(): Token | undefined {
    return this.tokens[this.#position];
  }

  #accept(...values: string[]): string | undefined {
    const token = this.#peek();
    if (token && (token.type === 'word' || token.type === 'symbol') && values.includes(token.value)) {
      this.#position++;
      return token.value;
    }
    return undefined;
  }

  #nested<T>(parse: () => T): T {
    if (++this.#depth > MAX_DEPTH) throw new RuleError(`rule nests deeper than ${MAX_DEPTH}`);
    try {
      return parse();
    } finally {
      this.#depth--;
    }
  }

  #or(): Node {
    let left = this.#and();
    while (this.#accept('or', '||')) left = { kind: 'binary', operator: 'or', left, right: this.#and() };
    return left;
  }

  #and(): Node {
    let left = this.#comparison();
    while (this.#accept('and', '&&')) left = { kind: 'binary', operator: 'and', left, right: this.#comparison() };
    return left;
  }

  #comparison(): Node {
    const left = this.#unary();
    const next = this.tokens[this.#position + 1];
    if (this.#peek()?.value === 'not' && next?.value === 'in') {
      this.#position += 2;
      return { kind: 'binary', operator: 'not in', left, right: this.#unary() };
    }
    const at = this.#peek()?.at;
    const operator = this.#accept(...Object.keys(COMPARISONS));
    if (operator === undefined) return left;
    const right = this.#unary();
    const comparison = COMPARISONS[operator]!;
    if (comparison === 'matches') return { kind: 'matches', subject: left, pattern: compilePattern(right, at!) };
    return { kind: 'binary', operator: comparison, left, right };
  }

  #unary(): Node {
    if (this.#accept('not', '!')) return this.#nested(() => ({ kind: 'not', operand: this.#unary() }));
    return this.#primary();
  }

  #primary(): Node {
    const token = this.#peek();
    if (token === undefined) throw new RuleError('rule ends too early');
    this.#position++;
    if (token.type === 'string' || token.type === 'number') return { kind: 'literal', value: token.value };
    if (token.type === 'word') {
      if (token.value === 'true' || token.value === 'false') return { kind: 'literal', value: token.value === 'true' };
      if (token.value === 'nil') return { kind: 'literal', value: null };
      if (Object.hasOwn(COMPARISONS, token.value) || ['and', 'or', 'not'].includes(token.value)) throw new RuleError(`unexpected ${token.value} at ${token.at}`);
      return { kind: 'name', name: token.value };
    }
    if (token.value === '(') {
      const inner = this.#nested(() => this.#or());
      this.#expect(')');
      return inner;
    }
    if (token.value === '[') {
      const items: Node[] = [];
      if (!this.#accept(']')) {
        do items.push(this.#nested(() => this.#or()));
        while (this.#accept(','));
        this.#expect(']');
      }
      return { kind: 'list', items };
    }
    throw new RuleError(`unexpected ${JSON.stringify(token.value)} at ${token.at}`);
  }

  #expect(symbol: string): void {
    if (!this.#accept(symbol)) {
      const token = this.#peek();
      throw new RuleError(token ? `expected ${symbol} at ${token.at}` : `expected ${symbol} at the end`);
    }
  }
}

function claimValue(claims: Readonly<Record<string, unknown>>, name: string): Value {
  if (!Object.hasOwn(claims, name)) return null;
  const value = claims[name];
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return null;
}

function evaluate(node: Node, claims: Readonly<Record<string, unknown>>): Value {
  switch (node.kind) {
    case 'literal':
      return node.value;
    case 'name':
      return claimValue(claims, node.name);
    case 'list':
      return node.items.map((item) => evaluate(item, claims));
    case 'not':
      return !asBoolean(evaluate(node.operand, claims), 'not');
    case 'matches': {
      const subject = evaluate(node.subject, claims);
      return typeof subject === 'string' && node.pattern.test(subject);
    }
    case 'binary':
      return binary(node, claims);
  }
}

function binary(node: Extract<Node, { kind: 'binary' }>, claims: Readonly<Record<string, unknown>>): Value {
  if (node.operator === 'or') return asBoolean(evaluate(node.left, claims), 'or') || asBoolean(evaluate(node.right, claims), 'or');
  if (node.operator === 'and') return asBoolean(evaluate(node.left, claims), 'and') && asBoolean(evaluate(node.right, claims), 'and');
  const left = evaluate(node.left, claims);
  const right = evaluate(node.right, claims);
  switch (node.operator) {
    case '==':
      return equal(left, right);
    case '!=':
      return !equal(left, right);
    case 'in':
      return Array.isArray(right) && right.some((item) => equal(item, left));
    case 'not in':
      return !(Array.isArray(right) && right.some((item) => equal(item, left)));
    case 'startsWith':
      return typeof left === 'string' && typeof right === 'string' && left.startsWith(right);
    case 'endsWith':
      return typeof left === 'string' && typeof right === 'string' && left.endsWith(right);
    case 'contains':
      return typeof left === 'string' && typeof right === 'string' && left.includes(right);
  }
}

/**
 * The pattern of the `matches` at `at`, compiled once with the rule. Without the `g` or `y` flag, `test` keeps
 * no state in the RegExp, so every evaluation of the rule may share it.
 */
function compilePattern(pattern: Node, at: number): RegExp {
  // A pattern taken from a claim would let a user choose the regular expression the server runs.
  if (pattern.kind !== 'literal' || typeof pattern.value !== 'string') throw new RuleError('matches: the pattern must be a string literal');
  try {
    return new RegExp(pattern.value, 'u');
  } catch (error) {
    throw new RuleError(`matches at ${at}: ${(error as Error).message}`);
  }
}

function equal(left: Value, right: Value): boolean {
  if (Array.isArray(left) && Array.isArray(right)) return left.length === right.length && left.every((item, i) => equal(item, right[i]!));
  return left === right;
}

function asBoolean(value: Value, operator: string): boolean {
  if (typeof value !== 'boolean') throw new RuleError(`${operator} needs a boolean, got ${describe(value)}`);
  return value;
}

function describe(value: Value): string {
  if (value === null) return 'nil';
  return Array.isArray(value) ? 'a list' : `${typeof value} ${JSON.stringify(value)}`;
}
