import { existsSync, readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
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

  it('has a root Pulumi.yaml that loads the provider from this folder and uses only schema types and inputs', () => {
    const program = parse(readFileSync(new URL('../../Pulumi.yaml', import.meta.url), 'utf8')) as {
      runtime: string;
      plugins: { providers: { name: string; path: string }[] };
      config: Record<string, unknown>;
      resources: Record<string, { type: string; properties: Record<string, unknown> }>;
    };
    expect(program.runtime).toBe('yaml');
    expect(program.plugins.providers).toEqual([{ name: 'argosync', path: '.' }]);
    for (const key of Object.keys(program.config)) expect(Object.keys(schema.config.variables)).toContain(key.replace(/^argosync:/, ''));
    for (const [name, resource] of Object.entries(program.resources)) {
      const spec = schema.resources[resource.type];
      expect(spec, `${name}: ${resource.type}`).toBeDefined();
      for (const property of Object.keys(resource.properties)) expect(Object.keys(spec!.inputProperties!), `${name}.${property}`).toContain(property);
      for (const required of spec!.requiredInputs ?? []) expect(Object.keys(resource.properties), `${name} needs ${required}`).toContain(required);
    }
  });

  it('describes SemaphoreLimit exactly as its handler reads and writes it', () => {
    const spec = schema.resources[SEMAPHORE_LIMIT_TOKEN]!;
    const handler = new SemaphoreLimitHandler(new ApiClient({ server: 'https://unused.invalid' }), { defaultNamespace: 'default', adoptExisting: false });
    const { inputs } = handler.check({ key: UNKNOWN, limit: UNKNOWN, type: 'configmap', configMapName: UNKNOWN, namespace: UNKNOWN });
    expect(Object.keys(spec.inputProperties!).sort()).toEqual(Object.keys(inputs).sort());
    expect(Object.keys(spec.properties!).sort()).toEqual([...Object.keys(inputs), 'lockName', 'holders', 'waiting'].sort());
  });
});
