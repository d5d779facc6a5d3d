import { createHash } from 'node:crypto';
import type { ConnectionSpec } from '../store/connection-spec.js';
import type { DatabaseConnectionConfig, SecretKeySelector, SecretSource } from './runtime-config.js';

/**
 * Reads one Kubernetes Secret key: through the Kubernetes API on a cluster, with `inlineSecretResolver`
 * elsewhere. Rejects when the secret cannot be read; the message may name the Secret, never a value.
 */
export type SecretResolver = (ref: SecretKeySelector) => Promise<string>;

async function resolve(source: SecretSource | undefined, resolveSecret: SecretResolver): Promise<string | undefined> {
  if (source === undefined) return undefined;
  return 'inline' in source ? source.inline : resolveSecret(source.secretKeyRef);
}

/**
 * The connection a `synchronization` or `persistence` section describes, with its credentials
 * resolved; undefined when the section names no database.
 */
export async function toConnectionSpec(
  section: DatabaseConnectionConfig,
  resolveSecret: SecretResolver,
): Promise<ConnectionSpec | undefined> {
  const endpoint = section.endpoint;
  if (endpoint === undefined) return undefined;
  const [user, password] = await Promise.all([
    resolve(endpoint.userName, resolveSecret),
    resolve(endpoint.password, resolveSecret),
  ]);
  const { maxOpenConns, maxIdleConns, connMaxLifetimeMs } = section.connectionPool;
  return {
    driver: endpoint.driver,
    host: endpoint.host,
    ...(endpoint.port === undefined ? {} : { port: endpoint.port }),
    database: endpoint.database,
    ...(user === undefined ? {} : { user }),
    ...(password === undefined ? {} : { password }),
    ...(endpoint.driver === 'postgresql'
      ? { ssl: endpoint.ssl, ...(endpoint.sslMode === undefined ? {} : { sslMode: endpoint.sslMode }) }
      : { options: endpoint.options }),
    connectionTimeoutSeconds: section.connectionTimeoutSeconds,
    // Go's database/sql reads maxOpenConns 0 as "unlimited": leave the pool at its own default then.
    ...(maxOpenConns ? { maxOpenConns } : {}),
    ...(maxIdleConns === undefined ? {} : { maxIdleConns }),
    // ...and connMaxLifetime 0 as "forever".
    ...(connMaxLifetimeMs ? { connMaxLifetimeMs } : {}),
  };
}

/** Hex SHA-256 of a password: the config API returns it so callers can detect a change without the secret. */
export function passwordSha256(password: string): string {
  return createHash('sha256').update(password, 'utf8').digest('hex');
}
