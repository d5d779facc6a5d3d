import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as pulumi from '@pulumi/pulumi';
import providerGrpc from '@pulumi/pulumi/proto/provider_grpc_pb.js';
import providerPb from '@pulumi/pulumi/proto/provider_pb.js';
import emptyPb from 'google-protobuf/google/protobuf/empty_pb.js';
import structPb from 'google-protobuf/google/protobuf/struct_pb.js';
import type { JavaScriptValue } from 'google-protobuf/google/protobuf/struct_pb.js';
import type { FakeEngine } from './fake-engine.js';

const PLUGIN = fileURLToPath(new URL('../../provider/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RUN_PLUGIN = fileURLToPath(new URL('../../node_modules/@pulumi/pulumi/cmd/run-plugin', import.meta.url));

/**
 * How the engine starts the plugin: the `pulumi-resource-argosync` executable (here its source through tsx), or
 * the folder's PulumiPlugin.yaml, which the Node.js language host runs with `run-plugin` (needs `npm run build`).
 */
export type LaunchMode = 'executable' | 'PulumiPlugin.yaml';
/** A plugin installed from its archive: its launcher, started in `cwd` (the engine starts it in the program's folder). */
export interface InstalledPlugin {
  readonly executable: string;
  readonly cwd: string;
}
export const { specialSigKey: SECRET_KEY, specialSecretSig: SECRET_SIG, unknownValue: UNKNOWN_SENTINEL } = pulumi.runtime;

export const secret = (value: JavaScriptValue) => ({ [SECRET_KEY]: SECRET_SIG, value });
export const urnOf = (type: string, name: string) => `urn:pulumi:test::argosync-test::${type}::${name}`;

type Bag = Record<string, JavaScriptValue>;
const struct = (bag: Bag) => structPb.Struct.fromJavaScript(bag);
const plain = (value: structPb.Struct | undefined): Bag => (value?.toJavaScript() ?? {}) as Bag;

export interface CheckOutcome {
  readonly inputs: Bag;
  readonly failures: { property: string; reason: string }[];
}

function checkOutcome(response: providerPb.CheckResponse): CheckOutcome {
  return { inputs: plain(response.getInputs()), failures: response.getFailuresList().map((failure) => ({ property: failure.getProperty(), reason: failure.getReason() })) };
}

function diffOutcome(response: providerPb.DiffResponse) {
  const detailed: Record<string, number> = {};
  response.getDetaileddiffMap().forEach((value, key) => (detailed[key] = value.getKind()));
  return { changes: response.getChanges(), replaces: response.getReplacesList(), diffs: response.getDiffsList(), detailed, deleteBeforeReplace: response.getDeletebeforereplace() };
}

/** One resource as the engine keeps it in state. */
export interface StateEntry {
  readonly urn: string;
  readonly id: string;
  readonly inputs: Bag;
  readonly outputs: Bag;
}

/**
 * Plays the Pulumi engine against the plugin over gRPC (pulumi-provider-notes §3–4): launches it as the engine
 * does, reads the port, and drives the calls of `preview`, `up`, `refresh`, `import` and `destroy`, keeping
 * state like the engine.
 */
export class EngineHarness {
  readonly state = new Map<string, StateEntry>();

  private constructor(
    private readonly child: ChildProcess,
    private readonly client: InstanceType<typeof providerGrpc.ResourceProviderClient>,
  ) {}

  /** `engineAddress`: where Construct reaches the engine (a FakeEngine); the CRUD calls never dial it. */
  static async launch(env: NodeJS.ProcessEnv = {}, mode: LaunchMode | InstalledPlugin = 'executable', engineAddress = '127.0.0.1:1'): Promise<EngineHarness> {
    const child =
      typeof mode === 'object'
        ? spawn(mode.executable, [engineAddress], { cwd: mode.cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
        : spawn(process.execPath, mode === 'executable' ? ['--import', 'tsx', PLUGIN, engineAddress] : [RUN_PLUGIN, ROOT, engineAddress], {
            env: { ...process.env, ...env },
            stdio: ['ignore', 'pipe', 'inherit'],
          });
    const firstLine = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`the plugin exited with ${code} before printing its port`)));
    });
    const client = new providerGrpc.ResourceProviderClient(`127.0.0.1:${Number(firstLine)}`, grpc.credentials.createInsecure());
    return new EngineHarness(child, client);
  }

  async close(): Promise<void> {
    this.client.close();
    this.child.kill();
  }

  /** Sends one RPC the way the engine's client does. */
  rpc<Response>(method: string, request: unknown): Promise<Response> {
    return new Promise((resolve, reject) => {
      (this.client as unknown as Record<string, (request: unknown, callback: (error: grpc.ServiceError | null, response: Response) => void) => void>)[method]!(request, (error, response) =>
        error ? reject(error) : resolve(response),
      );
    });
  }

  async pluginVersion(): Promise<string> {
    return (await this.rpc<{ getVersion(): string }>('getPluginInfo', new emptyPb.Empty())).getVersion();
  }

  async schema(): Promise<string> {
    return (await this.rpc<providerPb.GetSchemaResponse>('getSchema', new providerPb.GetSchemaRequest())).getSchema();
  }

  /** Configure as current engines send it (`args`), or as older ones do (`variables` of strings). */
  async configure(args: Bag, variables: Record<string, string> = {}): Promise<void> {
    const request = new providerPb.ConfigureRequest().setArgs(struct(args)).setAcceptsecrets(true).setAcceptresources(true);
    for (const [key, value] of Object.entries(variables)) request.getVariablesMap().set(key, value);
    await this.rpc('configure', request);
  }

  async check(urn: string, news: Bag, olds: Bag = {}, oldOutputs?: Bag): Promise<CheckOutcome> {
    const request = new providerPb.CheckRequest().setUrn(urn).setOlds(struct(olds)).setNews(struct(news));
    if (oldOutputs) request.setOldOutputs(struct(oldOutputs));
    return checkOutcome(await this.rpc<providerPb.CheckResponse>('check', request));
  }

  /** The provider resource's own Check (its inputs: the stack's `argosync:*` config or an explicit provider's args). */
  async checkConfig(news: Bag, olds: Bag = {}): Promise<CheckOutcome> {
    const urn = urnOf('pulumi:providers:argosync', 'default');
    return checkOutcome(await this.rpc<providerPb.CheckResponse>('checkConfig', new providerPb.CheckRequest().setUrn(urn).setOlds(struct(olds)).setNews(struct(news))));
  }

  async diffConfig(olds: Bag, news: Bag) {
    const urn = urnOf('pulumi:providers:argosync', 'default');
    return diffOutcome(await this.rpc<providerPb.DiffResponse>('diffConfig', new providerPb.DiffRequest().setUrn(urn).setOlds(struct(olds)).setOldInputs(struct(olds)).setNews(struct(news))));
  }

  async diff(urn: string, id: string, oldOutputs: Bag, news: Bag, oldInputs?: Bag) {
    const request = new providerPb.DiffRequest().setUrn(urn).setId(id).setOlds(struct(oldOutputs)).setNews(struct(news));
    if (oldInputs) request.setOldInputs(struct(oldInputs));
    return diffOutcome(await this.rpc<providerPb.DiffResponse>('diff', request));
  }

  /**
   * `pulumi preview` / `pulumi up` for one resource: Check, then Create, or Diff and Update or replace (in the order
   * the provider asks for). `replace`: `pulumi up --replace <urn>`, which replaces whatever the diff says.
   */
  async up(type: string, name: string, news: Bag, options: { preview?: boolean; replace?: boolean } = {}): Promise<{ operation: 'create' | 'same' | 'update' | 'replace'; entry?: StateEntry; deleteBeforeReplace?: boolean }> {
    const urn = urnOf(type, name);
    const previous = this.state.get(urn);
    const checked = await this.check(urn, news, previous?.inputs, previous?.outputs);
    if (checked.failures.length > 0) throw new Error(`check failed: ${JSON.stringify(checked.failures)}`);
    if (previous) {
      const diff = await this.diff(urn, previous.id, previous.outputs, checked.inputs, previous.inputs);
      if (diff.changes === providerPb.DiffResponse.DiffChanges.DIFF_NONE && !options.replace) return { operation: 'same', entry: previous };
      if (diff.replaces.length === 0 && !options.replace) {
        const request = new providerPb.UpdateRequest().setUrn(urn).setId(previous.id).setOlds(struct(previous.outputs)).setOldInputs(struct(previous.inputs)).setNews(struct(checked.inputs)).setPreview(options.preview ?? false);
        const response = await this.rpc<providerPb.UpdateResponse>('update', request);
        const entry = { ...previous, inputs: checked.inputs, outputs: plain(response.getProperties()) };
        if (!options.preview) this.state.set(urn, entry);
        return { operation: 'update', entry };
      }
      const { deleteBeforeReplace } = diff;
      if (options.preview) return { operation: 'replace', deleteBeforeReplace };
      const deleteOld = () => this.rpc('delete', new providerPb.DeleteRequest().setUrn(urn).setId(previous.id).setProperties(struct(previous.outputs)).setOldInputs(struct(previous.inputs)));
      // Create the replacement, then delete the old one (the engine's default order), unless the provider asks otherwise.
      if (deleteBeforeReplace) await deleteOld();
      const created = await this.#create(urn, checked.inputs, false);
      if (!deleteBeforeReplace) await deleteOld();
      this.state.set(urn, created);
      return { operation: 'replace', entry: created, deleteBeforeReplace };
    }
    const created = await this.#create(urn, checked.inputs, options.preview ?? false);
    if (!options.preview) this.state.set(urn, created);
    return { operation: 'create', entry: created };
  }

  async #create(urn: string, inputs: Bag, preview: boolean): Promise<StateEntry> {
    const response = await this.rpc<providerPb.CreateResponse>('create', new providerPb.CreateRequest().setUrn(urn).setProperties(struct(inputs)).setPreview(preview));
    return { urn, id: response.getId(), inputs, outputs: plain(response.getProperties()) };
  }

  /** `pulumi refresh` for one resource: Read with state, then the inverted Diff. Returns whether it drifted. */
  async refresh(type: string, name: string): Promise<{ gone: boolean; drifted: boolean; entry?: StateEntry }> {
    const urn = urnOf(type, name);
    const previous = this.state.get(urn)!;
    const response = await this.rpc<providerPb.ReadResponse>('read', new providerPb.ReadRequest().setUrn(urn).setId(previous.id).setProperties(struct(previous.outputs)).setInputs(struct(previous.inputs)));
    if (response.getId() === '') {
      this.state.delete(urn);
      return { gone: true, drifted: true };
    }
    const entry = { urn, id: response.getId(), inputs: plain(response.getInputs()), outputs: plain(response.getProperties()) };
    const diff = await this.diff(urn, entry.id, entry.outputs, previous.inputs, entry.inputs);
    this.state.set(urn, entry);
    return { gone: false, drifted: diff.changes === providerPb.DiffResponse.DiffChanges.DIFF_SOME, entry };
  }

  /** A program's call of a data source (`argosync.getSemaphoreLimit(...)`): Invoke with its arguments. */
  async invoke(token: string, args: Bag): Promise<{ outputs: Bag; failures: CheckOutcome['failures'] }> {
    const response = await this.rpc<providerPb.InvokeResponse>('invoke', new providerPb.InvokeRequest().setTok(token).setArgs(struct(args)));
    return { outputs: plain(response.getReturn()), failures: checkOutcome(new providerPb.CheckResponse().setFailuresList(response.getFailuresList())).failures };
  }

  /** `pulumi import <type> <name> <id>`: Read with the id only, then Check the read inputs against themselves. */
  async import(type: string, name: string, id: string): Promise<StateEntry> {
    const urn = urnOf(type, name);
    const response = await this.rpc<providerPb.ReadResponse>('read', new providerPb.ReadRequest().setUrn(urn).setId(id));
    if (response.getId() === '') throw new Error(`resource '${id}' does not exist`);
    if (!response.getInputs()) throw new Error('provider does not support importing resources');
    const inputs = plain(response.getInputs());
    const checked = await this.check(urn, inputs, inputs);
    if (checked.failures.length > 0) throw new Error(`import check failed: ${JSON.stringify(checked.failures)}`);
    const entry = { urn, id: response.getId(), inputs: checked.inputs, outputs: plain(response.getProperties()) };
    this.state.set(urn, entry);
    return entry;
  }

  /**
   * A program's `new argosync.Runtime(...)` (a remote component): Construct as the engine sends it, with the
   * stack as parent, the monitor to register children with, and the program's explicit providers.
   */
  async construct(
    engine: FakeEngine,
    type: string,
    name: string,
    inputs: Bag,
    options: { preview?: boolean; providers?: Record<string, string> } = {},
  ): Promise<{ urn: string; state: Bag }> {
    const request = new providerPb.ConstructRequest()
      .setProject(engine.project)
      .setStack(engine.stack)
      .setDryrun(options.preview ?? false)
      .setParallel(16)
      .setMonitorendpoint(engine.address)
      .setType(type)
      .setName(name)
      .setParent(engine.stackUrn)
      .setInputs(struct(inputs))
      .setAcceptsOutputValues(true);
    for (const [pkg, reference] of Object.entries(options.providers ?? {})) request.getProvidersMap().set(pkg, reference);
    const response = await this.rpc<providerPb.ConstructResponse>('construct', request);
    return { urn: response.getUrn(), state: plain(response.getState()) };
  }

  /** `pulumi destroy`: Delete every resource in state. */
  async destroy(): Promise<void> {
    for (const entry of [...this.state.values()].reverse()) {
      await this.rpc('delete', new providerPb.DeleteRequest().setUrn(entry.urn).setId(entry.id).setProperties(struct(entry.outputs)).setOldInputs(struct(entry.inputs)));
      this.state.delete(entry.urn);
    }
  }
}
