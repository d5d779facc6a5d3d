import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../runtime/errors.js';
import { passwordSha256, toConnectionSpec, type SecretResolver } from '../../runtime/config/connection.js';
import { inlineSecretResolver, secretEnvironmentName } from '../../runtime/config/inline-secret-resolver.js';
import { parseRuntimeConfig } from '../../runtime/config/runtime-config.js';

const refuse: SecretResolver = async (ref) => {
  throw new Error(`unexpected secret lookup ${ref.name}/${ref.key}`);
};

function sections(document: object) {
  return parseRuntimeConfig(document, { env: {}, hostname: 'h' });
}

describe('toConnectionSpec', () => {
  it('is undefined when the section names no database', async () => {
    expect(await toConnectionSpec(sections({}).synchronization, refuse)).toBeUndefined();
  });

  it('maps a PostgreSQL section with inline credentials, pool size and timeout', async () => {
    const config = sections({
      synchronization: {
        controllerName: 'c1',
        postgresql: { host: 'pg', port: 5433, database: 'argo', userName: 'argo', password: 'pw', ssl: true, sslMode: 'verify-full' },
        connectionPool: { maxOpenConns: 12, maxIdleConns: 3, connMaxLifetime: '90s' },
        connectionTimeoutSeconds: 9,
      },
    });
    expect(await toConnectionSpec(config.synchronization, refuse)).toEqual({
      driver: 'postgresql',
      host: 'pg',
      port: 5433,
      database: 'argo',
      user: 'argo',
      password: 'pw',
      ssl: true,
      sslMode: 'verify-full',
      connectionTimeoutSeconds: 9,
      maxOpenConns: 12,
      maxIdleConns: 3,
      connMaxLifetimeMs: 90_000,
    });
  });

  it('maps a MySQL persistence section whose credentials are Kubernetes secrets', async () => {
    const config = sections({
      persistence: {
        mysql: {
          host: 'my',
          database: 'argo',
          tableName: 'argo_workflows',
          options: { allowNativePasswords: 'true' },
          userNameSecret: { name: 'argo-mysql-config', key: 'username' },
          passwordSecret: { name: 'argo-mysql-config', key: 'password' },
        },
        // Go reads 0 as "unlimited" and "forever", and maxIdleConns 0 as "keep none".
        connectionPool: { maxOpenConns: 0, maxIdleConns: 0, connMaxLifetime: '0s' },
      },
    });
    const resolver = inlineSecretResolver({ ARGO_MYSQL_CONFIG_USERNAME: 'mysql', ARGO_MYSQL_CONFIG_PASSWORD: 'pw' });
    expect(await toConnectionSpec(config.persistence, resolver)).toEqual({
      driver: 'mysql',
      host: 'my',
      database: 'argo',
      user: 'mysql',
      password: 'pw',
      options: { allowNativePasswords: 'true' },
      connectionTimeoutSeconds: 5,
      maxIdleConns: 0,
    });
  });
});

describe('inlineSecretResolver', () => {
  it('derives the variable name from the secret and key', () => {
    expect(secretEnvironmentName({ name: 'argo-postgres-config', key: 'password' })).toBe('ARGO_POSTGRES_CONFIG_PASSWORD');
    expect(secretEnvironmentName({ name: 'db.creds', key: 'user-name' })).toBe('DB_CREDS_USER_NAME');
  });

  it('says how to provide a secret it cannot read, and honours optional', async () => {
    const resolve = inlineSecretResolver({});
    await expect(resolve({ name: 'argo-postgres-config', key: 'password' })).rejects.toThrow(InvalidArgumentError);
    await expect(resolve({ name: 'argo-postgres-config', key: 'password' })).rejects.toThrow(
      'secret argo-postgres-config key password cannot be read outside Kubernetes: set the environment variable ARGO_POSTGRES_CONFIG_PASSWORD',
    );
    expect(await resolve({ name: 'argo-postgres-config', key: 'password', optional: true })).toBe('');
  });
});

describe('passwordSha256', () => {
  it('is the hex SHA-256 of the UTF-8 password', () => {
    expect(passwordSha256('password')).toBe('5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8');
    expect(passwordSha256('pässwörd')).toBe('46970bef70aced8123f0d5d094717e2a5cd412041e03b26376049fe65b2834a4');
  });
});
