import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PACKAGE_VERSION, SCHEMA_TEXT } from '../../provider/package-files.js';
import { CONFIG_KEYS } from '../../provider/provider-config.js';
import { UNKNOWN } from '../../provider/resource-handler.js';
import { SEMAPHORE_LIMIT_TOKEN, SemaphoreLimitHandler } from '../../provider/resources/semaphore-limit.js';
import { ApiClient } from '../../runtime/client/api-client.js';

interface PropertySpec {
  readonly type?: string;
  readonly $ref?: string;
  readonly secret?: boolean;
}
interface ResourceSpec {
  readonly inputProperties?: Record<string, PropertySpec>;
  readonly requiredInputs?: readonly string[];
  readonly properties?: Record<string, PropertySpec>;
  readonly required?: readonly string[];
}
interface PackageSchema {
  readonly name: string;
  readonly config: { readonly variables: Record<string, PropertySpec> };
  readonly types: Record<string, unknown>;
  readonly resources: Record<string, ResourceSpec>;
}

const schema = JSON.parse(readFileSync(new URL('../../schema.json', import.meta.url), 'utf8')) as PackageSchema;
// The metaschema is shared reference material beside the checkout (../shared), not part of the project.
const METASCHEMA = new URL('../../../shared/pulumi-package-metaschema.json', import.meta.url);
const metaschema = existsSync(METASCHEMA) ? (JSON.parse(readFileSync(METASCHEMA, 'utf8')) as object) : undefined;
if (!metaschema) console.warn(`skipping the metaschema check: ${METASCHEMA.pathname} is missing`);

describe('schema.json', () => {
  it.skipIf(!metaschema)('is valid against the Pulumi package metaschema', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    formats.default(ajv);
    const validate = ajv.compile(metaschema!);
    expect(validate(schema), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it('is coherent: tokens of this package, required names declared, references resolvable, secrets marked', () => {
    for (const [token, resource] of Object.entries(schema.resources)) {
      expect(token.split(':')[0]).toBe(schema.name);
      for (const name of resource.requiredInputs ?? []) expect(Object.keys(resource.inputProperties ?? {}), `${token} input ${name}`).toContain(name);
      for (const name of resource.required ?? []) expect(Object.keys(resource.properties ?? {}), `${token} output ${name}`).toContain(name);
      for (const property of [...Object.values(resource.inputProperties ?? {}), ...Object.values(resource.properties ?? {})]) {
        const local = property.$ref?.startsWith('#/types/') ? property.$ref.slice('#/types/'.length) : undefined;
        if (local) expect(Object.keys(schema.types)).toContain(local);
      }
      if (resource.inputProperties?.password) expect(resource.inputProperties.password.secret).toBe(true);
    }
    expect(schema.config.variables.token?.secret).toBe(true);
  });

  interface YamlProgram {
    readonly runtime: string | { readonly name: string };
    readonly plugins: { readonly providers: readonly { readonly name: string; readonly path: string }[] };
    readonly config?: Record<string, unknown>;
    readonly resources?: Record<string, { readonly type: string; readonly properties?: Record<string, unknown> }>;
  }
  const ROOT = new URL('../../', import.meta.url);
  const programs = ['Pulumi.yaml', ...readdirSync(new URL('examples/', ROOT), { withFileTypes: true }).filter((entry) => entry.isDirectory() && existsSync(new URL(`examples/${entry.name}/Pulumi.yaml`, ROOT))).map((entry) => `examples/${entry.name}/Pulumi.yaml`)];

  it('has programs at the root and for each case: team limits (YAML and TypeScript), a shared database, offload and archive', () => {
    expect(programs.sort()).toEqual(['Pulumi.yaml', 'examples/offload-archive/Pulumi.yaml', 'examples/shared-database/Pulumi.yaml', 'examples/team-limits-ts/Pulumi.yaml', 'examples/team-limits/Pulumi.yaml']);
  });

  it.each(programs)('%s loads the provider from this checkout and uses only schema types, inputs and config', (file) => {
    const program = parse(readFileSync(new URL(file, ROOT), 'utf8')) as YamlProgram;
    const [provider] = program.plugins.providers;
    expect(provider?.name).toBe('argosync');
    expect(existsSync(new URL(`${dirname(file)}/${provider!.path}/PulumiPlugin.yaml`, ROOT)), 'the provider path holds PulumiPlugin.yaml').toBe(true);
    for (const key of Object.keys(program.config ?? {}).filter((name) => name.startsWith('argosync:'))) expect(Object.keys(schema.config.variables)).toContain(key.slice('argosync:'.length));
    for (const [name, resource] of Object.entries(program.resources ?? {})) {
      const inputs = resource.type === 'pulumi:providers:argosync' ? schema.config.variables : schema.resources[resource.type]?.inputProperties;
      expect(inputs, `${name}: ${resource.type}`).toBeDefined();
      for (const property of Object.keys(resource.properties ?? {})) expect(Object.keys(inputs!), `${name}.${property}`).toContain(property);
      for (const required of schema.resources[resource.type]?.requiredInputs ?? []) expect(Object.keys(resource.properties ?? {}), `${name} needs ${required}`).toContain(required);
    }
    if (typeof program.runtime !== 'string') expect(existsSync(new URL(`${dirname(file)}/index.ts`, ROOT))).toBe(true);
  });

  it('describes SemaphoreLimit exactly as its handler reads and writes it', () => {
    const spec = schema.resources[SEMAPHORE_LIMIT_TOKEN]!;
    const handler = new SemaphoreLimitHandler(new ApiClient({ server: 'https://unused.invalid' }), { defaultNamespace: 'default', adoptExisting: false });
    const { inputs } = handler.check({ key: UNKNOWN, limit: UNKNOWN, type: 'configmap', configMapName: UNKNOWN, namespace: UNKNOWN });
    expect(Object.keys(spec.inputProperties!).sort()).toEqual(Object.keys(inputs).sort());
    expect(Object.keys(spec.properties!).sort()).toEqual([...Object.keys(inputs), 'lockName', 'holders', 'waiting', 'adopted'].sort());
  });

  it("lists the provider's configuration keys, the ones CheckConfig accepts", () => {
    expect(Object.keys(schema.config.variables).sort()).toEqual([...CONFIG_KEYS].sort());
  });

  it('has no version of its own: package.json is the one source, stamped in at GetSchema', () => {
    expect(schema).not.toHaveProperty('version');
    expect(JSON.parse(SCHEMA_TEXT)).toMatchObject({ name: 'argosync', version: PACKAGE_VERSION });
  });
});
