import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRule, RuleError } from '../../../runtime/server/auth/sso/rbac-expression.js';

const claims = { email: 'alice@example.com', groups: ['admins', 'team-a'], name: 'Alice', exp: 1_900_000_000 };
const evaluate = (rule: string, on: Record<string, unknown> = claims) => parseRule(rule).evaluate(on);

describe('the rbac-rule evaluator (the expr-lang subset of Argo’s documentation)', () => {
  it.each([
    ["'admins' in groups", true],
    ['"ops" in groups', false],
    ["'ops' not in groups", true],
    ["email == 'alice@example.com'", true],
    ["email != 'alice@example.com'", false],
    ["email endsWith '@example.com' and 'team-a' in groups", true],
    ["email startsWith 'bob' || name contains 'lic'", true],
    ["not ('admins' in groups)", false],
    ["!('admins' in groups) && true", false],
    ["email matches '^[a-z]+@example\\\\.com$'", true],
    ['email in ["bob@example.com", "alice@example.com"]', true],
    ["(email == 'x' or 'admins' in groups) and name == 'Alice'", true],
    ['exp == 1900000000', true],
  ])('%s → %s', (rule, expected) => {
    expect(evaluate(rule)).toBe(expected);
  });

  it('treats an absent claim as empty instead of failing (Argo: "unknown name groups")', () => {
    expect(evaluate("'admins' in groups", { email: 'x' })).toBe(false);
    expect(evaluate("'admins' not in groups", {})).toBe(true);
    expect(evaluate('groups == nil', {})).toBe(true);
    expect(evaluate("preferred_username startsWith 'a'", {})).toBe(false);
  });

  it('refuses what it cannot parse, and results that are not booleans, with a RuleError', () => {
    for (const bad of ["'admins' in", 'email ==', '(true', 'groups[0]', 'email.length', 'f()', "'x' in groups; true", '"unterminated']) {
      expect(() => parseRule(bad), bad).toThrow(RuleError);
    }
    expect(() => evaluate('email')).toThrow('rule result is string "alice@example.com", not a boolean');
    expect(() => evaluate("not email")).toThrow(RuleError);
  });

  it('never throws anything but RuleError and never runs code, whatever the text (fast-check)', () => {
    const fragments = fc.constantFrom('constructor', '__proto__', 'prototype', 'toString', 'this', 'globalThis', 'process', '(', ')', '[', ']', ',', '!', '&&', '||', '==', '!=', ' in ', ' not ', ' matches ', ' contains ', '"x"', "'('", '1', 'true', 'nil', 'groups', 'email', '.', ';', '`', '${', '\\');
    const text = fc.oneof(fc.string(), fc.array(fragments, { maxLength: 30 }).map((parts) => parts.join(' ')));
    const probe = globalThis as { argosyncRuleRan?: boolean };
    fc.assert(
      fc.property(text, (rule) => {
        try {
          const result = evaluate(rule, { ...claims, constructor: 'c' });
          expect(typeof result).toBe('boolean');
        } catch (error) {
          expect(error).toBeInstanceOf(RuleError);
        }
        expect(probe.argosyncRuleRan).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
    expect(() => evaluate("constructor == 'x'", {})).not.toThrow();
    expect(evaluate('toString == nil', {})).toBe(true);
    expect(evaluate('__proto__ == nil', {})).toBe(true);
    expect(() => parseRule('globalThis.argosyncRuleRan = true')).toThrow(RuleError);
  });

  it('takes the pattern of matches only from the rule, never from a claim the user controls', () => {
    expect(() => parseRule('email matches name')).toThrow('matches: the pattern must be a string literal');
    expect(() => parseRule('email matches ["a"]')).toThrow('matches: the pattern must be a string literal');
    expect(evaluate("email matches '@example'")).toBe(true);
  });

  it('compiles the pattern of matches when the rule is parsed: a bad one is refused there, naming where', () => {
    expect(() => parseRule("'admins' in groups or email matches '('")).toThrow('matches at 28: Invalid regular expression: /(/u: Unterminated group');
    expect(() => parseRule("email matches '[z-a]'")).toThrow(RuleError);
    const rule = parseRule("email matches '^[a-z]+@'");
    for (let i = 0; i < 3; i += 1) expect(rule.evaluate(claims)).toBe(true);
  });

  it('bounds nesting and length, so a hostile rule cannot exhaust the stack', () => {
    expect(() => parseRule(`${'('.repeat(200)}true${')'.repeat(200)}`)).toThrow('nests deeper than 64');
    expect(() => parseRule(`${'!'.repeat(500)}true`)).toThrow(RuleError);
    expect(() => parseRule(`'a' == '${'a'.repeat(5000)}'`)).toThrow('longer than 4096');
  });
});
