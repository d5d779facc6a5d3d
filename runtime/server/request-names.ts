import { hasControlCharacter } from '../control-characters.js';
import { InvalidArgumentError } from '../errors.js';
import { assertValidConfigMap, labelProblem, subdomainProblem } from '../store/kubernetes-names.js';

/** `sync_state.name` and `sync_lock.name` are varchar(256) and hold `sem/<namespace>/<key>` (SPEC §2). */
const LOCK_NAME_COLUMN = 256;
/** A value quoted in a message is cut here: a message must stay readable whatever a client sent. */
const SHOWN_LENGTH = 80;

function invalid(field: string, value: string, problem: string): InvalidArgumentError {
  const shown = value.length > SHOWN_LENGTH ? `${value.slice(0, SHOWN_LENGTH)}…` : value;
  return new InvalidArgumentError(`invalid ${field} ${JSON.stringify(shown)}: ${problem}`);
}

/**
 * SPEC §7.6: a namespace is a DNS-1123 label. Checked before a request value reaches a store, a lock
 * name or anything else, so `../x` or a NUL never travels further.
 */
export function checkNamespace(value: string, field = 'namespace'): string {
  const problem = labelProblem(value);
  if (problem) throw invalid(field, value, problem);
  return value;
}

/** A workflow name: a DNS-1123 subdomain. */
export function checkObjectName(value: string, field: string): string {
  const problem = subdomainProblem(value);
  if (problem) throw invalid(field, value, problem);
  return value;
}

/** A ConfigMap name and data key, refused with the text Kubernetes would answer (Argo passes it through). */
export function checkConfigMapRef(namespace: string, cmName: string, key: string): void {
  assertValidConfigMap({ namespace, name: cmName, data: { [key]: '' } });
}

/** A database key: any text without control characters, short enough for `sem/<namespace>/<key>` to fit its column. */
export function checkDatabaseKey(namespace: string, key: string, field = 'key'): string {
  if (hasControlCharacter(key)) throw invalid(field, key, 'must not contain NUL or other control characters');
  const room = LOCK_NAME_COLUMN - `sem/${namespace}/`.length;
  if (key.length > room) throw invalid(field, key, `must be at most ${room} characters in namespace "${namespace}", got ${key.length}`);
  return key;
}
