import { readFileSync } from 'node:fs';
import type { JavaScriptValue } from 'google-protobuf/google/protobuf/struct_pb.js';
import { parse } from 'yaml';
import { secret, UNKNOWN_SENTINEL, type EngineHarness, type StateEntry } from './engine-harness.js';

type Bag = Record<string, JavaScriptValue>;

interface ConfigEntry {
  readonly value?: JavaScriptValue;
  readonly default?: JavaScriptValue;
  readonly secret?: boolean;
}

interface ResourceEntry {
  readonly type: string;
  readonly properties?: Bag;
  readonly options?: { readonly provider?: string; readonly dependsOn?: readonly string[] };
}

/** A Pulumi YAML program (`runtime: yaml`): its project config, resources and outputs. */
export interface YamlProgram {
  readonly name: string;
  readonly config: Readonly<Record<string, ConfigEntry>>;
  readonly resources: Readonly<Record<string, ResourceEntry>>;
  readonly outputs: Readonly<Record<string, string>>;
}

export function loadYamlProgram(path: string): YamlProgram {
  const file = parse(readFileSync(path, 'utf8')) as Partial<YamlProgram> & { name: string };
  return { name: file.name, config: file.config ?? {}, resources: file.resources ?? {}, outputs: file.outputs ?? {} };
}

const PROVIDER_TYPE = 'pulumi:providers:argosync';
const REFERENCE = /^\$\{([^}.]+)(?:\.([^}]+))?\}$/;

export interface ProgramRun {
  /** The state of each resource by its name in the program (in preview: what Create would return). */
  readonly resources: Map<string, StateEntry>;
  readonly outputs: Record<string, JavaScriptValue>;
  /** `pulumi destroy`, after an up. */
  destroy(): Promise<void>;
}

/**
 * The plugins of one stack, one per provider configuration, kept between operations as the engine keeps a
 * provider's state (so a preview and the up after it meet the same plugin).
 */
export class ProviderPool {
  readonly #harnesses = new Map<string, Promise<EngineHarness>>();

  constructor(private readonly launch: () => Promise<EngineHarness>) {}

  /** The plugin configured with `args`: CheckConfig, then Configure, as the engine does for a provider resource. */
  get(args: Bag): Promise<EngineHarness> {
    const key = JSON.stringify(args);
    if (!this.#harnesses.has(key)) {
      this.#harnesses.set(
        key,
        this.launch().then(async (harness) => {
          const checked = await harness.checkConfig(args);
          if (checked.failures.length > 0) throw new Error(`provider config: ${JSON.stringify(checked.failures)}`);
          await harness.configure(checked.inputs);
          return harness;
        }),
      );
    }
    return this.#harnesses.get(key)!;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#harnesses.values()].map(async (harness) => (await harness).close()));
  }
}

/**
 * `pulumi preview` or `pulumi up` of a YAML program, as the engine plays it: the default provider configured
 * from the stack's `argosync:*` config (CheckConfig, then Configure), each `pulumi:providers:argosync` resource
 * as a provider of its own, and the resources in dependency order with `${config}` and `${resource.property}`
 * resolved (a property not known in preview is the unknown sentinel). `stack` is the stack's config (it wins
 * over the project's values and defaults).
 */
export async function runYamlProgram(program: YamlProgram, stack: Readonly<Record<string, JavaScriptValue>>, preview: boolean, pool: ProviderPool): Promise<ProgramRun> {
  const config = new Map<string, JavaScriptValue>();
  for (const [key, entry] of Object.entries(program.config)) {
    const value = stack[key] ?? entry.value ?? entry.default;
    if (value !== undefined) config.set(key, entry.secret ? secret(value) : value);
  }
  for (const [key, value] of Object.entries(stack)) if (!config.has(key)) config.set(key, value);

  const resources = new Map<string, StateEntry>();
  const providers = new Map<string, Promise<EngineHarness>>();
  const resolve = (value: JavaScriptValue): JavaScriptValue => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolve(item)]));
    const match = typeof value === 'string' ? REFERENCE.exec(value) : null;
    if (!match) return value;
    const [, name, property] = match as unknown as [string, string, string | undefined];
    if (property === undefined) return config.get(name) ?? null;
    return resources.get(name)?.outputs[property] ?? (preview ? UNKNOWN_SENTINEL : null);
  };
  const defaultProvider = () =>
    pool.get(Object.fromEntries([...config].filter(([key]) => key.startsWith('argosync:')).map(([key, value]) => [key.slice('argosync:'.length), value])));

  const pending = new Map(Object.entries(program.resources));
  while (pending.size > 0) {
    const ready = [...pending].find(([, entry]) => dependenciesOf(entry).every((name) => !pending.has(name)));
    if (!ready) throw new Error(`a dependency cycle among ${[...pending.keys()].join(', ')}`);
    const [name, entry] = ready;
    pending.delete(name);
    const properties = resolve(entry.properties ?? {}) as Bag;
    if (entry.type === PROVIDER_TYPE) {
      providers.set(name, pool.get(properties));
      resources.set(name, { urn: name, id: name, inputs: properties, outputs: properties });
      continue;
    }
    const providerName = entry.options?.provider ? REFERENCE.exec(entry.options.provider)![1]! : '';
    if (!providers.has(providerName)) providers.set(providerName, defaultProvider());
    const harness = await providers.get(providerName)!;
    const { entry: state } = await harness.up(entry.type, name, properties, { preview });
    resources.set(name, state!);
  }
  const outputs = Object.fromEntries(Object.entries(program.outputs).map(([key, value]) => [key, resolve(value)]));
  const harnesses = await Promise.all(providers.values());
  return {
    resources,
    outputs,
    destroy: async () => {
      // Dependents first: the providers' states in reverse order of their first use.
      for (const harness of [...new Set(harnesses)].reverse()) await harness.destroy();
    },
  };
}

/** The resources an entry refers to: in its properties, its provider and its dependsOn. */
function dependenciesOf(entry: ResourceEntry): string[] {
  const text = JSON.stringify([entry.properties ?? {}, entry.options ?? {}]);
  return [...text.matchAll(/\$\{([^}.]+)[}.]/g)].map((match) => match[1]!);
}
