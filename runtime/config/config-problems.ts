import type { ErrorObject } from 'ajv';
import { InvalidArgumentError } from '../errors.js';
import { FORMAT_HINTS } from './config-schema.js';

/** One thing wrong with a configuration: the dotted key path (`synchronization.pollSeconds`) and why. */
export interface ConfigProblem {
  readonly path: string;
  readonly reason: string;
}

/** Argo keys argosync knows but does not implement, so they are not reported as typos. */
const UNSUPPORTED_ARGO_KEYS: Readonly<Record<string, string>> = {
  azureToken: 'Azure AD token authentication is not supported by argosync; use userNameSecret/passwordSecret',
  awsRDSToken: 'AWS RDS IAM authentication is not supported by argosync; use userNameSecret/passwordSecret',
};

/** Keys whose values are credentials: never echoed in a message. */
const SECRET_KEYS = new Set(['password', 'userName']);

export function joinPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

function pathOf(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<string>((path, segment) => joinPath(path, /^\d+$/.test(segment) ? Number(segment) : segment), '');
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The closest known key, if the unknown one looks like a typo or an abbreviation of it (case ignored). */
function suggestion(unknown: string, known: readonly string[]): string {
  const lower = unknown.toLowerCase();
  let best: { key: string; distance: number } | undefined;
  for (const key of known) {
    const distance = editDistance(key.toLowerCase(), lower);
    const abbreviation = lower.length >= 4 && key.toLowerCase().startsWith(lower.slice(0, -1));
    const close = abbreviation || distance <= Math.max(2, Math.floor(key.length / 5));
    if (close && (best === undefined || distance < best.distance)) {
      best = { key, distance };
    }
  }
  return best === undefined ? '' : ` (did you mean ${best.key}?)`;
}

function got(error: ErrorObject, path: string): string {
  const key = path.split('.').at(-1) ?? '';
  if (SECRET_KEYS.has(key)) return '';
  const shown = JSON.stringify(error.data) ?? String(error.data);
  return ` (got ${shown.length > 80 ? `${shown.slice(0, 77)}...` : shown})`;
}

/** Turns ajv's errors into problems whose reasons say what to write instead. */
export function problemsFromAjv(errors: readonly ErrorObject[]): ConfigProblem[] {
  return errors.map((error): ConfigProblem => {
    const path = pathOf(error.instancePath);
    const params = error.params as Record<string, unknown>;
    switch (error.keyword) {
      case 'additionalProperties': {
        const key = String(params['additionalProperty']);
        const unsupported = UNSUPPORTED_ARGO_KEYS[key];
        if (unsupported !== undefined) return { path: joinPath(path, key), reason: unsupported };
        const known = Object.keys((error.parentSchema?.['properties'] as object | undefined) ?? {});
        return { path: joinPath(path, key), reason: `unknown key${suggestion(key, known)}` };
      }
      case 'required':
        return { path: joinPath(path, String(params['missingProperty'])), reason: 'required' };
      case 'enum': {
        const allowed = (params['allowedValues'] as unknown[]).map(String).join(', ');
        return { path, reason: `must be one of ${allowed}${got(error, path)}` };
      }
      case 'format': {
        const hint = FORMAT_HINTS[String(params['format'])] ?? `must be a ${String(params['format'])}`;
        return { path, reason: `${hint}${got(error, path)}` };
      }
      default:
        return { path, reason: error.message ?? `fails ${error.keyword}` };
    }
  });
}

/**
 * The one error for a rejected configuration: every problem, each naming its key, in one message.
 * `source` (a file path, a ConfigMap) is named when the configuration came from one.
 */
export function invalidConfiguration(problems: readonly ConfigProblem[], source?: string): InvalidArgumentError {
  const where = source === undefined ? '' : ` in ${source}`;
  const details = problems.map(({ path, reason }) => `${path === '' ? '(document)' : path}: ${reason}`);
  return new InvalidArgumentError(`invalid configuration${where}: ${details.join('; ')}`);
}
