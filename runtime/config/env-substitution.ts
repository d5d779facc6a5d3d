import { joinPath, type ConfigProblem } from './config-problems.js';

const REFERENCE = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Replaces `${NAME}` in every string value (never in keys) with the environment variable NAME;
 * `$${` stands for a literal `${`. Only strings are substituted: `port: ${DB_PORT}` stays a string
 * and is reported as "must be integer", so a number is never guessed from text.
 * Problems name the key and the variable, never the surrounding value (it may be a password).
 */
export function substituteEnvironment(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  problems: ConfigProblem[],
  path = '',
): unknown {
  if (typeof value === 'string') return substituteString(value, env, problems, path);
  if (Array.isArray(value)) return value.map((item, index) => substituteEnvironment(item, env, problems, joinPath(path, index)));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, substituteEnvironment(item, env, problems, joinPath(path, key))]),
    );
  }
  return value;
}

function substituteString(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  problems: ConfigProblem[],
  path: string,
): string {
  return text.replace(REFERENCE, (match, name: string | undefined) => {
    if (match === '$${') return '${';
    if (name === undefined || !ENV_NAME.test(name)) {
      problems.push({ path, reason: 'malformed ${...} reference: use ${NAME} with a variable name, or $${ for a literal ${' });
      return match;
    }
    const replacement = env[name];
    if (replacement === undefined) {
      problems.push({ path, reason: `environment variable ${name} is not set` });
      return match;
    }
    return replacement;
  });
}

/**
 * Makes every string of `value` literal for `substituteEnvironment` (`${` → `$${`): what a config API caller
 * sends is stored as written and never reads the runtime's environment (SPEC §7.6).
 */
export function escapeEnvironmentReferences(value: unknown): unknown {
  // A function, because `$$` in a replacement string would itself mean one `$`.
  return mapStrings(value, (text) => text.replaceAll('${', () => '$${'));
}

/** The inverse of `escapeEnvironmentReferences`, to show a caller what it sent. */
export function unescapeEnvironmentReferences(value: unknown): unknown {
  return mapStrings(value, (text) => text.replaceAll('$${', () => '${'));
}

function mapStrings(value: unknown, map: (text: string) => string): unknown {
  if (typeof value === 'string') return map(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, map));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapStrings(item, map)]));
  return value;
}
