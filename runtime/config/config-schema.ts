import { Ajv } from 'ajv';
import { hasControlCharacter } from '../control-characters.js';
import { isSqlIdentifier, SQL_IDENTIFIER_HINT } from '../store/sql-identifier.js';
import { parseArgoTtl, parseGoDuration } from './duration.js';
import { DAY_MS, duration } from './duration-schema.js';
import { ssoSchema } from './sso-section.js';

/**
 * The configuration document as written in YAML/JSON: Argo's `workflow-controller-configmap` sections
 * `synchronization` and `persistence` with Argo's exact key names, plus argosync's `server` and `executor`.
 * String values may hold `${ENV_VAR}` references, which stay unexpanded in a saved document.
 */
export type ConfigDocument = { readonly [section: string]: unknown };

/** Custom formats, so one ajv pass reports them beside every other problem. */
export const FORMAT_HINTS: Readonly<Record<string, string>> = {
  duration: 'must be a duration such as 30s, 5m, 1h30m or 7d',
  'go-duration': 'must be a Go duration such as 10h or 240h',
  'sql-identifier': SQL_IDENTIFIER_HINT,
  printable: 'must not contain NUL or other control characters',
};

const object = (properties: Record<string, unknown>, required: string[] = []) => ({
  type: 'object',
  properties,
  ...(required.length > 0 ? { required } : {}),
  additionalProperties: false,
});

const integer = (minimum: number, maximum?: number) => ({
  type: 'integer',
  minimum,
  ...(maximum === undefined ? {} : { maximum }),
});
const boolean = { type: 'boolean' };
const text = { type: 'string', minLength: 1 };
const tableName = { type: 'string', format: 'sql-identifier' };
/** The offload table: its index is `<name>_i1`, which must fit the same 63 characters. */
const offloadTableName = { ...tableName, maxLength: 60 };
// A period that drives a timer stays below 24 days, where Node's timers overflow to 1 ms.
/** Text without control characters: it becomes a row value, a lock holder or a log line. */
const printable = (maxLength: number) => ({ type: 'string', minLength: 1, maxLength, format: 'printable' });
const stringMap = { type: 'object', additionalProperties: { type: 'string' } };

/** Kubernetes `SecretKeySelector`, read from the runtime's own namespace. */
const secretKeySelector = object({ name: text, key: text, optional: boolean }, ['name', 'key']);

/** Argo's `DatabaseConfig`; `userName`/`password` are argosync's inline alternative outside Kubernetes. */
const databaseKeys = {
  host: text,
  port: integer(0, 65535),
  database: text,
  tableName: offloadTableName,
  userNameSecret: secretKeySelector,
  passwordSecret: secretKeySelector,
  userName: { type: 'string' },
  password: { type: 'string' },
};

const postgresql = object(
  { ...databaseKeys, ssl: boolean, sslMode: { enum: ['disable', 'require', 'verify-ca', 'verify-full'] } },
  ['host', 'database'],
);
const mysql = object({ ...databaseKeys, options: stringMap }, ['host', 'database']);

/** Argo's `DBConfig`, embedded (flattened) in both `synchronization` and `persistence`. */
const dbConfigKeys = {
  postgresql,
  mysql,
  connectionPool: object({ maxIdleConns: integer(0, 10_000), maxOpenConns: integer(0, 10_000), connMaxLifetime: duration(0, DAY_MS, '0 and 24h') }),
  reconnectionConfig: object({
    maxRetries: integer(0, 1_000),
    baseDelaySeconds: integer(0, 3600),
    maxDelaySeconds: integer(1, 3600),
    retryMultiple: { type: 'number', maximum: 100 },
  }),
  connectionTimeoutSeconds: integer(0, 300),
};

const synchronization = object({
  ...dbConfigKeys,
  enableAPI: boolean,
  controllerName: printable(64),
  skipMigration: boolean,
  limitTableName: tableName,
  stateTableName: tableName,
  controllerTableName: tableName,
  lockTableName: tableName,
  pollSeconds: integer(1, 3600),
  heartbeatSeconds: integer(1, 3600),
  inactiveControllerSeconds: integer(1, 86_400),
  semaphoreLimitCacheSeconds: integer(0, 3600),
  missingLimit: { enum: ['wait', 'error'] },
  reclaimInactiveHolds: boolean,
});

const labelSelector = object({
  matchLabels: stringMap,
  matchExpressions: {
    type: 'array',
    items: object(
      {
        key: text,
        operator: { enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] },
        values: { type: 'array', items: { type: 'string' } },
      },
      ['key', 'operator'],
    ),
  },
});

const persistence = object({
  ...dbConfigKeys,
  nodeStatusOffLoad: boolean,
  archive: boolean,
  archiveLabelSelector: labelSelector,
  archiveTTL: duration(0, 3650 * DAY_MS, '0 and 3650d'),
  clusterName: printable(64),
  skipMigration: boolean,
  // argosync's: persistence on the sync database's connection (the offload table named here, not under a driver).
  useSyncDatabase: boolean,
  tableName: offloadTableName,
});

/** Keys named after the `argosync server` flags (SPEC §8). */
const server = object({
  port: integer(1, 65535),
  address: text,
  secure: boolean,
  hsts: boolean,
  tlsCert: text,
  tlsKey: text,
  authMode: { type: 'array', items: { enum: ['server', 'client', 'sso'] }, minItems: 1, uniqueItems: true },
  baseHref: { type: 'string', pattern: '^/' },
  apiRateLimit: integer(1),
  apiRateLimitWindow: duration(1, DAY_MS, '1ms and 24h'),
  rateLimitKeyHeaders: { type: 'array', items: text },
  maxBodyBytes: integer(1),
});

const executor = object({
  type: { enum: ['local', 'kubernetes'] },
  namespace: text,
  serviceAccountName: text,
});

export const configDocumentSchema = object({ synchronization, persistence, server, executor, sso: ssoSchema });

const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
ajv.addFormat('duration', { type: 'string', validate: (value: string) => parseArgoTtl(value) !== undefined });
ajv.addFormat('go-duration', { type: 'string', validate: (value: string) => parseGoDuration(value) !== undefined });
ajv.addFormat('printable', { type: 'string', validate: (value: string) => !hasControlCharacter(value) });
ajv.addFormat('sql-identifier', { type: 'string', validate: isSqlIdentifier });
interface DurationRange {
  readonly minMs: number;
  readonly maxMs: number;
  readonly label: string;
}
const durationRange = (range: DurationRange, data: string): boolean => {
  const ms = parseArgoTtl(data);
  if (ms === undefined || (ms >= range.minMs && ms <= range.maxMs)) return true; // `format` reports a bad text
  durationRange.errors = [{ keyword: 'durationRange', message: `must be between ${range.label}`, params: {} }];
  return false;
};
durationRange.errors = [] as { keyword: string; message: string; params: object }[];
ajv.addKeyword({ keyword: 'durationRange', type: 'string', schemaType: 'object', errors: true, validate: durationRange });

/** Validates a document (after `${ENV}` substitution); problems are in `validateConfigDocument.errors`. */
export const validateConfigDocument = ajv.compile(configDocumentSchema);
