import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../runtime/errors.js';
import { configDocumentSchema } from '../../runtime/config/config-schema.js';
import { parseRuntimeConfig, type RuntimeConfig } from '../../runtime/config/runtime-config.js';

const pg = { host: 'db.example', database: 'argo' };

function parse(input: unknown, env: Record<string, string> = {}): RuntimeConfig {
  return parseRuntimeConfig(input, { env, hostname: 'ctl-host' });
}

function failure(input: unknown, env: Record<string, string> = {}): string {
  try {
    parse(input, env);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('defaults', () => {
  it("apply Argo's code values (not its documented ones) to an empty document", () => {
    const connection = {
      connectionPool: {},
      reconnection: { maxRetries: 5, baseDelayMs: 100, maxDelayMs: 30_000, retryMultiple: 2 },
      connectionTimeoutSeconds: 5,
    };
    const expected: RuntimeConfig = {
      synchronization: {
        ...connection,
        enableAPI: false,
        controllerName: 'ctl-host',
        skipMigration: false,
        limitTableName: 'sync_limit',
        stateTableName: 'sync_state',
        controllerTableName: 'sync_controller',
        lockTableName: 'sync_lock',
        pollSeconds: 10,
        heartbeatSeconds: 60,
        inactiveControllerSeconds: 600,
        semaphoreLimitCacheSeconds: 0,
        missingLimit: 'wait',
        reclaimInactiveHolds: true,
      },
      persistence: {
        ...connection,
        nodeStatusOffLoad: false,
        archive: false,
        archiveTTLMs: 0,
        clusterName: 'default',
        skipMigration: false,
        useSyncDatabase: false,
      },
      server: {
        port: 2746,
        secure: true,
        hsts: true,
        authMode: ['client'],
        baseHref: '/',
        apiRateLimit: 1000,
        apiRateLimitWindowMs: 60_000,
        rateLimitKeyHeaders: [],
        maxBodyBytes: 1_048_576,
      },
      executor: {},
    };
    for (const empty of [undefined, null, {}, { synchronization: {}, persistence: {}, server: {}, executor: {} }]) {
      expect(parse(empty)).toEqual(expected);
    }
  });

  it('default the controller name to the host name', () => {
    expect(parseRuntimeConfig({}, { env: {} }).synchronization.controllerName).toMatch(/.+/);
  });

  it('apply the reconnection rules: baseDelaySeconds 0 is 100 ms, retryMultiple < 1 is 1', () => {
    const reconnection = (reconnectionConfig: object) => parse({ synchronization: { reconnectionConfig } }).synchronization.reconnection;
    expect(reconnection({ baseDelaySeconds: 0, retryMultiple: 0 })).toMatchObject({ baseDelayMs: 100, retryMultiple: 1 });
    expect(reconnection({ baseDelaySeconds: 2, retryMultiple: -3 })).toMatchObject({ baseDelayMs: 2000, retryMultiple: 1 });
    // Delays never shrink: a multiple below 1 would make every retry come sooner than the last.
    expect(reconnection({ retryMultiple: 0.1 })).toMatchObject({ retryMultiple: 1 });
    expect(reconnection({ maxRetries: 0, maxDelaySeconds: 7, retryMultiple: 1.5 })).toEqual({
      maxRetries: 0,
      baseDelayMs: 100,
      maxDelayMs: 7000,
      retryMultiple: 1.5,
    });
    expect(parse({ synchronization: { connectionTimeoutSeconds: 0 } }).synchronization.connectionTimeoutSeconds).toBe(5);
  });

  it('keep what is set and freeze the result', () => {
    const config = parse({
      synchronization: {
        controllerName: 'c1',
        postgresql: { ...pg, port: 0, ssl: false, sslMode: 'require', userName: 'argo', passwordSecret: { name: 's', key: 'p' } },
        connectionPool: { maxOpenConns: 10, maxIdleConns: 2, connMaxLifetime: '1h' },
        pollSeconds: 2,
        missingLimit: 'error',
        reclaimInactiveHolds: false,
      },
    });
    // Port 0 is "host only" and sslMode only counts with ssl, as in Argo.
    expect(config.synchronization.endpoint).toEqual({
      driver: 'postgresql',
      host: 'db.example',
      database: 'argo',
      ssl: false,
      userName: { inline: 'argo' },
      password: { secretKeyRef: { name: 's', key: 'p' } },
    });
    expect(config.synchronization.connectionPool).toEqual({ maxOpenConns: 10, maxIdleConns: 2, connMaxLifetimeMs: 3_600_000 });
    expect(config.synchronization).toMatchObject({ pollSeconds: 2, missingLimit: 'error', reclaimInactiveHolds: false });
    expect(Object.isFrozen(config.synchronization.endpoint)).toBe(true);
  });
});

/** Every leaf key of the schema, with a value of the wrong type for it. */
function leaves(schema: Record<string, unknown>, path: string[] = []): { path: string[]; bad: unknown }[] {
  const properties = schema['properties'] as Record<string, Record<string, unknown>> | undefined;
  if (properties !== undefined) {
    return Object.entries(properties).flatMap(([key, child]) => leaves(child, [...path, key]));
  }
  return [{ path, bad: schema['type'] === 'string' ? 42 : 'bogus' }];
}

function documentWith(path: string[], value: unknown): unknown {
  return path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value);
}

describe('validation', () => {
  it.each(leaves(configDocumentSchema).map(({ path, bad }) => [path.join('.'), path, bad] as const))(
    'names %s when it is invalid',
    (name, path, bad) => {
      expect(failure(documentWith(path, bad))).toMatch(new RegExp(`(: |; )${name.replaceAll('.', '\\.')}: must`));
    },
  );

  it('reports every problem at once, each with its key and reason', () => {
    const message = failure({ synchronization: { pollSeconds: 'x', postgresqll: {}, heartbeatSeconds: 0 }, persistence: { clusterName: '' } });
    expect(message).toMatch(/^invalid configuration: /);
    expect(message).toContain('synchronization.pollSeconds: must be integer');
    expect(message).toContain('synchronization.postgresqll: unknown key (did you mean postgresql?)');
    expect(message).toContain('synchronization.heartbeatSeconds: must be >= 1');
    expect(message).toContain('persistence.clusterName: must NOT have fewer than 1 characters');
  });

  it('suggests the right spelling of Argo key names', () => {
    expect(failure({ synchronization: { postgresql: { ...pg, usernameSecret: { name: 'a', key: 'b' } } } })).toContain(
      'synchronization.postgresql.usernameSecret: unknown key (did you mean userNameSecret?)',
    );
    expect(failure({ persistence: { nodeStatusOffload: true } })).toContain('did you mean nodeStatusOffLoad?');
    expect(failure({ synchronization: { reconnectConfig: {} } })).toContain('did you mean reconnectionConfig?');
    expect(failure({ nonsense: 1 })).toBe('invalid configuration: nonsense: unknown key');
  });

  it('names enum, format and range problems with the value given', () => {
    expect(failure({ synchronization: { missingLimit: 'fail' } })).toContain(
      'synchronization.missingLimit: must be one of wait, error (got "fail")',
    );
    expect(failure({ synchronization: { limitTableName: 'sync limit; drop table x' } })).toContain(
      'synchronization.limitTableName: must be a lower-case SQL identifier',
    );
    expect(failure({ server: { port: 70000, authMode: ['oidc'] } })).toMatch(/server\.port: must be <= 65535.*server\.authMode\[0\]: must be one of server, client, sso/);
    expect(failure({ persistence: { postgresql: { ...pg, tableName: 'argo_workflows', azureToken: { enabled: true } } } })).toContain(
      'persistence.postgresql.azureToken: Azure AD token authentication is not supported by argosync',
    );
  });

  it('rejects postgresql and mysql together instead of silently preferring postgresql', () => {
    expect(failure({ synchronization: { controllerName: 'c', postgresql: pg, mysql: pg } })).toContain(
      'synchronization: both postgresql and mysql are set; keep only one',
    );
  });

  it('requires controllerName when a sync database is set, and only then', () => {
    for (const database of [{ postgresql: pg }, { mysql: pg }]) {
      expect(failure({ synchronization: database })).toContain('synchronization.controllerName: required when a database is set');
    }
    expect(parse({ persistence: { mysql: { ...pg, tableName: 'argo_workflows' } } }).synchronization.controllerName).toBe('ctl-host');
  });

  it("requires persistence's tableName with Argo's text", () => {
    expect(failure({ persistence: { mysql: pg } })).toContain('persistence.mysql.tableName: TableName is empty');
    expect(parse({ persistence: { postgresql: { ...pg, tableName: 'argo_workflows' } } }).persistence.tableName).toBe('argo_workflows');
  });

  it('puts persistence on the sync database with useSyncDatabase, and refuses it without one or beside a connection', () => {
    const synchronization = { controllerName: 'c', postgresql: { ...pg, userName: 'u', password: 'p' } };
    const config = parse({ synchronization, persistence: { useSyncDatabase: true, nodeStatusOffLoad: true } });
    expect(config.persistence).toMatchObject({ useSyncDatabase: true, tableName: 'argo_workflows', endpoint: config.synchronization.endpoint });
    expect(parse({ synchronization, persistence: { useSyncDatabase: true, tableName: 'wf' } }).persistence.tableName).toBe('wf');
    expect(failure({ persistence: { useSyncDatabase: true } })).toContain('persistence.useSyncDatabase: the synchronization section names no database');
    expect(failure({ synchronization, persistence: { useSyncDatabase: true, mysql: { ...pg, tableName: 'wf' } } })).toContain(
      'persistence.useSyncDatabase: set either useSyncDatabase or a postgresql/mysql connection, not both',
    );
    expect(failure({ persistence: { tableName: 'wf' } })).toContain('persistence.tableName: belongs under postgresql or mysql');
  });

  it('refuses an inactivity timeout that live controllers cannot beat', () => {
    expect(failure({ synchronization: { heartbeatSeconds: 60, inactiveControllerSeconds: 60 } })).toContain(
      'synchronization.inactiveControllerSeconds: must be greater than heartbeatSeconds (60)',
    );
  });

  it('requires tlsCert and tlsKey together', () => {
    expect(failure({ server: { tlsKey: '/k.pem' } })).toContain('server.tlsCert: tlsCert and tlsKey go together');
  });
});

describe('archiveTTL', () => {
  const ttl = (archiveTTL: unknown) => parse({ persistence: { archiveTTL } }).persistence.archiveTTLMs;

  it.each([
    ['', 0],
    ['0', 0],
    ['0d', 0],
    ['7d', 7 * 86_400_000],
    ['12h', 12 * 3_600_000],
    ['30m', 1_800_000],
    ['45s', 45_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['2m30s', 150_000],
    ['500ms', 500],
  ])('reads %j', (text, ms) => expect(ttl(text)).toBe(ms));

  it.each(['3x', '-1d', '1 d', 'd', '1h-30m', '10'])('rejects %j naming it', (text) => {
    expect(failure({ persistence: { archiveTTL: text } })).toContain(
      `persistence.archiveTTL: must be a duration such as 30s, 5m, 1h30m or 7d (got ${JSON.stringify(text)})`,
    );
  });
});

describe('${ENV} substitution', () => {
  it('expands variables inside string values, and $${ as a literal', () => {
    const config = parse(
      { synchronization: { controllerName: 'ctl-${ZONE}', postgresql: { ...pg, host: '${DB_HOST}', password: 'p$${x}-${DB_PASS}' } } },
      { ZONE: 'eu', DB_HOST: 'pg.internal', DB_PASS: 's3cret' },
    );
    expect(config.synchronization.controllerName).toBe('ctl-eu');
    expect(config.synchronization.endpoint).toMatchObject({ host: 'pg.internal', password: { inline: 'p${x}-s3cret' } });
  });

  it('names the key and the unset variable', () => {
    expect(failure({ synchronization: { controllerName: 'c', postgresql: { ...pg, password: '${DB_PASS}' } } })).toContain(
      'synchronization.postgresql.password: environment variable DB_PASS is not set',
    );
    expect(failure({ server: { rateLimitKeyHeaders: ['X', '${}'] } })).toContain('server.rateLimitKeyHeaders[1]: malformed ${...} reference');
  });

  it('never turns text into numbers', () => {
    expect(failure({ server: { port: '${PORT}' } }, { PORT: '8080' })).toContain('server.port: must be integer');
  });
});

describe('secrets', () => {
  it('never appear in error messages', () => {
    const secret = 'hunter2-Zq9';
    const messages = [
      failure({ synchronization: { postgresql: { ...pg, password: secret, userName: secret, pollSeconds: 1 } } }),
      failure({ synchronization: { postgresql: { ...pg, password: 987654321 } } }),
      failure(
        { synchronization: { postgresql: { ...pg, password: '${DB_PASS}', passwordSecret: { name: 'n', key: 'k' } } } },
        { DB_PASS: secret },
      ),
      failure({ synchronization: { postgresql: { ...pg, password: `${secret}\${oops` } } }),
    ];
    expect(messages[1]).toContain('synchronization.postgresql.password: must be string');
    expect(messages[2]).toContain('synchronization.postgresql.password: set either password or passwordSecret, not both');
    for (const message of messages) {
      expect(message).not.toContain(secret);
      expect(message).not.toContain('987654321');
    }
  });
});

describe('bounds of seconds and durations (SPEC §7.6)', () => {
  it('refuses pollSeconds of 30 days, which overflowed the timer into a 1 ms loop', () => {
    expect(() => parseRuntimeConfig({ synchronization: { pollSeconds: 2_592_000 } })).toThrow('synchronization.pollSeconds: must be <= 3600');
    expect(parseRuntimeConfig({ synchronization: { pollSeconds: 3600 } }).synchronization.pollSeconds).toBe(3600);
    expect(() => parseRuntimeConfig({ synchronization: { pollSeconds: 0 } })).toThrow('synchronization.pollSeconds: must be >= 1');
    expect(() => parseRuntimeConfig({ persistence: { archiveTTL: '3651d' } })).toThrow('persistence.archiveTTL: must be between 0 and 3650d');
    expect(() => parseRuntimeConfig({ synchronization: { connectionPool: { connMaxLifetime: '25h' } } })).toThrow('connMaxLifetime: must be between 0 and 24h');
  });

  it('gives every seconds key a minimum and a maximum, and every duration key a range, in every section (sso included)', () => {
    const timeLike = /(Seconds|Expiry|TTL|Lifetime|Window|Timeout|Delay|Period|Interval)$/i;
    const unbounded: string[] = [];
    const visited: string[] = [];
    const walk = (schema: Record<string, unknown>, path: string): void => {
      for (const [key, child] of Object.entries((schema.properties ?? {}) as Record<string, Record<string, unknown>>)) {
        const at = path ? `${path}.${key}` : key;
        visited.push(at);
        const ranged = child.durationRange !== undefined || (child.minimum !== undefined && child.maximum !== undefined);
        const isDuration = typeof child.format === 'string' && /duration/.test(child.format);
        if ((timeLike.test(key) || isDuration) && !ranged) unbounded.push(at);
        walk(child, at);
      }
    };
    walk(configDocumentSchema as unknown as Record<string, unknown>, '');
    expect(visited).toEqual(expect.arrayContaining(['sso.sessionExpiry', 'synchronization.pollSeconds', 'persistence.archiveTTL', 'server.apiRateLimitWindow']));
    expect(unbounded).toEqual([]);
  });

  it('bounds sso.sessionExpiry to 720h, a Go duration as Argo reads it', () => {
    const sso = { issuer: 'https://idp.example', clientIdValue: 'c', clientSecretValue: 's' };
    expect(parseRuntimeConfig({ sso: { ...sso, sessionExpiry: '720h' } }).sso?.sessionExpiryMs).toBe(720 * 3_600_000);
    expect(parseRuntimeConfig({ sso: { ...sso, sessionExpiry: '0' } }).sso?.sessionExpiryMs).toBe(10 * 3_600_000);
    expect(() => parseRuntimeConfig({ sso: { ...sso, sessionExpiry: '721h' } })).toThrow('sso.sessionExpiry: must be between 0 and 720h');
    expect(() => parseRuntimeConfig({ sso: { ...sso, sessionExpiry: '876000h' } })).toThrow('sso.sessionExpiry: must be between 0 and 720h');
    expect(() => parseRuntimeConfig({ sso: { ...sso, sessionExpiry: '7d' } })).toThrow('sso.sessionExpiry: must be a Go duration such as 10h or 240h');
  });

  it('refuses control characters in controllerName and clusterName', () => {
    expect(() => parseRuntimeConfig({ synchronization: { controllerName: 'a\u0000b' } })).toThrow('synchronization.controllerName: must not contain NUL or other control characters');
    expect(() => parseRuntimeConfig({ persistence: { clusterName: 'x\ny' } })).toThrow('persistence.clusterName: must not contain NUL');
  });
});
