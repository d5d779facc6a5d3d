import { hostname } from 'node:os';
import { InvalidArgumentError } from '../errors.js';
import type { SqlDatabase } from '../store/sql-database.js';
import { openDatabase } from '../store/sql-database.js';
import type { DatabaseRole } from '../store/database-role.js';
import { silentReconnectionLog, type ReconnectionLog } from '../store/reconnection-policy.js';
import { migratePersistenceSchema } from '../store/migrations/persistence-migrations.js';
import { migrateSyncSchema } from '../store/migrations/sync-migrations.js';
import { passwordSha256, toConnectionSpec, type SecretResolver } from './connection.js';
import type { ConfigDocument } from './config-schema.js';
import type { ConfigSource } from './config-source.js';
import { escapeEnvironmentReferences, unescapeEnvironmentReferences } from './env-substitution.js';
import type { RuntimeConfig } from './runtime-config.js';

export type SectionName = 'synchronization' | 'persistence';
export const SECTION_NAMES: readonly SectionName[] = ['synchronization', 'persistence'];
const SECTION_ROLES: Readonly<Record<SectionName, DatabaseRole>> = { synchronization: 'sync database', persistence: 'persistence database' };

/** What the runtime does with a section once it is valid, reachable and migrated. */
export interface SectionTarget {
  /** Starts using the section's database (undefined: none configured); the target owns `database` from then on. */
  apply(section: SectionName, config: RuntimeConfig, database: SqlDatabase | undefined): Promise<void>;
  /** Live facts for GET: the schema version and, for synchronization, the controllers and their heartbeats. */
  describe(section: SectionName): Promise<Record<string, unknown>>;
}

type Section = Record<string, unknown>;
const DRIVERS = ['postgresql', 'mysql'] as const;

/**
 * The runtime configuration API (SPEC 7.4): read a section without its passwords, replace one after
 * validating it, connecting to its database and migrating it, or remove one; changes are saved through the
 * configuration source and applied live.
 */
export class ConfigSections {
  /** What the runtime runs with, section by section, to tell a real change from an echo of our own save. */
  #applied: Partial<Record<SectionName, string>> = {};
  /** Changes run one at a time, so a reload never races the API's own change of the same section. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly source: ConfigSource,
    private readonly resolveSecret: SecretResolver,
    private readonly target: SectionTarget,
    /** Where the databases opened for a section report their outages and reconnections. */
    private readonly log: ReconnectionLog = silentReconnectionLog,
  ) {
    const current = source.current;
    if (current) for (const name of SECTION_NAMES) this.#applied[name] = JSON.stringify(current[name]);
  }

  /**
   * Applies the sections that differ from what runs: for a file edited by hand (hot reload). A section that
   * cannot be connected or migrated is reported through `onRejected` and the running one is kept.
   */
  reload(config: RuntimeConfig, onRejected: (error: Error) => void): Promise<void> {
    return this.#serially(() => this.#reload(config, onRejected));
  }

  async #reload(config: RuntimeConfig, onRejected: (error: Error) => void): Promise<void> {
    for (const name of SECTION_NAMES) {
      if (this.#applied[name] === JSON.stringify(config[name])) continue;
      try {
        await this.target.apply(name, config, await this.#connectAndMigrate(name, config));
        this.#applied[name] = JSON.stringify(config[name]);
      } catch (error) {
        onRejected(error as Error);
      }
    }
  }

  async get(name: SectionName): Promise<Section> {
    const section = (this.#document()[name] ?? {}) as Section;
    const config = this.source.current;
    const password = config ? (await toConnectionSpec(config[name], this.resolveSecret).catch(() => undefined))?.password : undefined;
    return { ...withoutPasswords(unescapeEnvironmentReferences(section) as Section, password), ...(await this.target.describe(name)) };
  }

  put(name: SectionName, body: unknown): Promise<Section> {
    return this.#serially(() => this.#put(name, body));
  }

  delete(name: SectionName): Promise<void> {
    return this.#serially(() => this.#delete(name));
  }

  #serially<T>(change: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(change);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async #put(name: SectionName, body: unknown): Promise<Section> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidArgumentError(`${name} must be an object`);
    refuseSecretReferences(name, body as Section);
    const previous = this.#document();
    // The operator's own sections keep their ${VAR} references; the caller's values are stored literally.
    const literal = escapeEnvironmentReferences(body) as Section;
    const document: ConfigDocument = { ...previous, [name]: name === 'synchronization' ? withControllerName(literal) : literal };
    const config = this.#validate(document);
    const database = await this.#connectAndMigrate(name, config);
    try {
      await this.source.save(document);
    } catch (error) {
      await database?.destroy();
      throw error;
    }
    try {
      await this.target.apply(name, config, database);
      this.#applied[name] = JSON.stringify(config[name]);
    } catch (error) {
      // The runtime kept the previous section running, so the stored one goes back to it too.
      await this.source.save(previous).catch(() => undefined);
      throw error;
    }
    await this.#applyFollowers(name, config);
    return this.get(name);
  }

  /** A section that takes its connection from `changed` (persistence with `useSyncDatabase`) moves with it. */
  async #applyFollowers(changed: SectionName, config: RuntimeConfig): Promise<void> {
    for (const name of SECTION_NAMES) {
      if (name === changed || this.#applied[name] === JSON.stringify(config[name])) continue;
      await this.target.apply(name, config, await this.#connectAndMigrate(name, config));
      this.#applied[name] = JSON.stringify(config[name]);
    }
  }

  async #delete(name: SectionName): Promise<void> {
    const document = { ...this.#document() };
    delete document[name];
    const config = await this.source.save(document);
    // The database stays as it is: detaching never drops tables.
    await this.target.apply(name, config, undefined);
    this.#applied[name] = JSON.stringify(config[name]);
  }

  #document(): ConfigDocument {
    return this.source.currentDocument ?? {};
  }

  #validate(document: ConfigDocument): RuntimeConfig {
    try {
      return this.source.validate(document);
    } catch (error) {
      if (error instanceof InvalidArgumentError) throw error;
      throw new InvalidArgumentError((error as Error).message);
    }
  }

  async #connectAndMigrate(name: SectionName, config: RuntimeConfig): Promise<SqlDatabase | undefined> {
    const spec = await toConnectionSpec(config[name], this.resolveSecret);
    if (!spec) return undefined;
    const database = await openDatabase(spec, { role: SECTION_ROLES[name], reconnection: config[name].reconnection, log: this.log });
    try {
      if (name === 'synchronization' && !config.synchronization.skipMigration) await migrateSyncSchema(database, config.synchronization);
      if (name === 'persistence' && !config.persistence.skipMigration) {
        await migratePersistenceSchema(database, { tableName: config.persistence.tableName ?? 'argo_workflows' });
      }
      return database;
    } catch (error) {
      await database.destroy();
      if (error instanceof InvalidArgumentError) throw error;
      throw new InvalidArgumentError(`cannot migrate the ${name} database at ${database.description}: ${(error as Error).message}`);
    }
  }
}

/**
 * SPEC §3: a sync database needs a controller name, and through this API it defaults to the host name (saved,
 * so that the name in use is written down and does not change with the host).
 */
function withControllerName(section: Section): Section {
  const hasDatabase = DRIVERS.some((driver) => section[driver] !== undefined);
  return hasDatabase && section.controllerName === undefined ? { ...section, controllerName: hostname() } : section;
}

/**
 * Secret references resolve from the runtime's environment outside Kubernetes: a caller of the API could read
 * any variable through them (SPEC §7.6), so only the operator's files may use them.
 */
function refuseSecretReferences(name: SectionName, section: Section): void {
  for (const driver of DRIVERS) {
    const database = section[driver] as Section | undefined;
    for (const key of ['userNameSecret', 'passwordSecret']) {
      if (database !== null && typeof database === 'object' && Object.hasOwn(database, key)) {
        throw new InvalidArgumentError(
          `${name}.${driver}.${key} cannot be set through the API: secret references are read from the runtime's environment. Send userName and password, or put the reference in the configuration file`,
        );
      }
    }
  }
}

/** The section as stored, with inline passwords replaced by the SHA-256 of the password in use. */
function withoutPasswords(section: Section, password: string | undefined): Section {
  const copy: Section = { ...section };
  for (const driver of DRIVERS) {
    const database = copy[driver] as Section | undefined;
    if (!database) continue;
    const { password: _inline, ...rest } = database;
    copy[driver] = { ...rest, ...(password === undefined ? {} : { passwordSha256: passwordSha256(password) }) };
  }
  return copy;
}
