import type { LabelSelector } from '../config/runtime-config.js';
import { InvalidArgumentError } from '../errors.js';

type Labels = Readonly<Record<string, string>> | undefined;

/** One requirement of a selector: `key op values`. */
interface Requirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values: readonly string[];
}

/** A parsed selector: every requirement must hold. */
export type LabelMatcher = (labels: Labels) => boolean;

function matcherOf(requirements: readonly Requirement[]): LabelMatcher {
  return (labels) =>
    requirements.every(({ key, operator, values }) => {
      // Own keys only: a selector on `constructor` must not find Object.prototype's.
      const value = labels !== undefined && Object.hasOwn(labels, key) ? labels[key] : undefined;
      switch (operator) {
        case 'In':
          return value !== undefined && values.includes(value);
        case 'NotIn':
          return value === undefined || !values.includes(value);
        case 'Exists':
          return value !== undefined;
        case 'DoesNotExist':
          return value === undefined;
      }
    });
}

const KEY = String.raw`[A-Za-z0-9./_-]+`;
const VALUE = String.raw`[A-Za-z0-9._-]*`;
const EQUALITY = new RegExp(String.raw`^(${KEY})\s*(==|=|!=)\s*(${VALUE})$`);
const SET = new RegExp(String.raw`^(${KEY})\s+(in|notin)\s+\(([^)]*)\)$`);
const EXISTS = new RegExp(String.raw`^(!?)(${KEY})$`);

/**
 * Kubernetes' string form (`listOptions.labelSelector`): `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`,
 * `a`, `!a`, joined by commas. Throws InvalidArgumentError naming the part it cannot read.
 */
export function parseLabelSelector(text: string): LabelMatcher {
  const requirements: Requirement[] = [];
  // Commas inside `( )` belong to a set; split only on the others.
  for (const part of text.split(/,(?![^(]*\))/).map((piece) => piece.trim())) {
    if (part === '') continue;
    const equality = EQUALITY.exec(part);
    const set = SET.exec(part);
    const exists = EXISTS.exec(part);
    if (equality) requirements.push({ key: equality[1]!, operator: equality[2] === '!=' ? 'NotIn' : 'In', values: [equality[3]!] });
    else if (set) requirements.push({ key: set[1]!, operator: set[2] === 'in' ? 'In' : 'NotIn', values: set[3]!.split(',').map((value) => value.trim()) });
    else if (exists) requirements.push({ key: exists[2]!, operator: exists[1] ? 'DoesNotExist' : 'Exists', values: [] });
    else throw new InvalidArgumentError(`invalid label selector "${text}": cannot parse "${part}"`);
  }
  return matcherOf(requirements);
}

/** The structured form (`archiveLabelSelector`); undefined matches everything. */
export function labelSelectorMatcher(selector: LabelSelector | undefined): LabelMatcher {
  const requirements: Requirement[] = Object.entries(selector?.matchLabels ?? {}).map(([key, value]) => ({ key, operator: 'In', values: [value] }));
  for (const expression of selector?.matchExpressions ?? []) requirements.push({ ...expression, values: expression.values ?? [] });
  return matcherOf(requirements);
}
