import * as grpc from '@grpc/grpc-js';
import * as pulumi from '@pulumi/pulumi';
import engineGrpc from '@pulumi/pulumi/proto/engine_grpc_pb.js';
import enginePb from '@pulumi/pulumi/proto/engine_pb.js';
import providerPb from '@pulumi/pulumi/proto/provider_pb.js';
import pluginPb from '@pulumi/pulumi/proto/plugin_pb.js';
import emptyPb from 'google-protobuf/google/protobuf/empty_pb.js';
import structPb from 'google-protobuf/google/protobuf/struct_pb.js';
import { ApiRequestError, type ApiClient } from '../runtime/client/api-client.js';
import { PACKAGE_VERSION, SCHEMA_TEXT } from './package-files.js';
import { decodeProperties, encodeProperties } from './property-values.js';
import { FUNCTIONS } from './functions.js';
import { apiClientFor, configFailures, ENGINE_KEYS, readProviderConfig, type ProviderConfig } from './provider-config.js';
import type { CheckFailure, CustomResourceHandler, DiffResult } from './resource-handler.js';
import { RUNTIME_TOKEN } from './resources/runtime-token.js';
import { SEMAPHORE_LIMIT_TOKEN, SemaphoreLimitHandler } from './resources/semaphore-limit.js';
import { ConfigSectionHandler, OFFLOAD_CONFIG, OFFLOAD_CONFIG_TOKEN, SYNC_DATABASE, SYNC_DATABASE_TOKEN } from './resources/config-section.js';

type AnyHandler = CustomResourceHandler<never, unknown>;
type Unary<Request, Response> = (call: grpc.ServerUnaryCall<Request, Response>, callback: grpc.sendUnaryData<Response>) => void;

/** Resource tokens this provider serves, with how to build their handler from the provider config. */
const HANDLERS: Readonly<Record<string, (client: ApiClient, config: ProviderConfig) => AnyHandler>> = {
  [SYNC_DATABASE_TOKEN]: (client) => new ConfigSectionHandler(client, SYNC_DATABASE) as unknown as AnyHandler,
  [OFFLOAD_CONFIG_TOKEN]: (client) => new ConfigSectionHandler(client, OFFLOAD_CONFIG) as unknown as AnyHandler,
  [SEMAPHORE_LIMIT_TOKEN]: (client, config) =>
    new SemaphoreLimitHandler(client, { defaultNamespace: config.namespace, adoptExisting: config.adoptExisting }) as unknown as AnyHandler,
};

/** The custom resource tokens served (the schema test checks them against schema.json). */
export const SERVED_TOKENS: readonly string[] = Object.keys(HANDLERS);

const { Struct } = structPb;
const { Empty } = emptyPb;

/** The wire form of an error: the API server's message as it is, anything else with its message. */
function toServiceError(error: unknown): grpc.ServiceError {
  const message = error instanceof ApiRequestError || error instanceof Error ? error.message : String(error);
  return Object.assign(new Error(message), { code: grpc.status.UNKNOWN, details: message, metadata: new grpc.Metadata() });
}

function unary<Request, Response>(handle: (request: Request) => Promise<Response>): Unary<Request, Response> {
  return (call, callback) => {
    handle(call.request).then(
      (response) => callback(null, response),
      (error: unknown) => callback(toServiceError(error)),
    );
  };
}

function unimplemented(method: string): Unary<unknown, unknown> {
  return (_call, callback) => callback(Object.assign(new Error(`${method} is not implemented`), { code: grpc.status.UNIMPLEMENTED, details: `${method} is not implemented`, metadata: new grpc.Metadata() }));
}

const { DIFF_NONE, DIFF_SOME } = providerPb.DiffResponse.DiffChanges;

const wireFailures = (failures: readonly CheckFailure[]) => failures.map((failure) => new providerPb.CheckFailure().setProperty(failure.property).setReason(failure.reason));

function checkResponse(inputs: structPb.Struct | undefined, failures: readonly CheckFailure[]): providerPb.CheckResponse {
  return new providerPb.CheckResponse().setInputs(inputs).setFailuresList(wireFailures(failures));
}

/** A Diff answer with its detailed diff (every changed property, `*_REPLACE` for those that replace). */
function diffResponse(result: DiffResult, deleteBeforeReplace: boolean): providerPb.DiffResponse {
  const response = new providerPb.DiffResponse()
    .setChanges(result.changes ? DIFF_SOME : DIFF_NONE)
    .setDiffsList([...result.diffs])
    .setReplacesList([...result.replaces])
    .setDeletebeforereplace(deleteBeforeReplace)
    .setHasdetaileddiff(true);
  for (const property of result.diffs) {
    const kind = result.replaces.includes(property) ? providerPb.PropertyDiff.Kind.UPDATE_REPLACE : providerPb.PropertyDiff.Kind.UPDATE;
    response.getDetaileddiffMap().set(property, new providerPb.PropertyDiff().setKind(kind).setInputdiff(true));
  }
  return response;
}

/** Provider config as the engine compares it: what the program gave, without the engine's own properties. */
function configDiff(olds: Record<string, unknown>, news: Record<string, unknown>): DiffResult {
  const names = [...new Set([...Object.keys(olds), ...Object.keys(news)])].filter((name) => !ENGINE_KEYS.has(name));
  const diffs = names.filter((name) => JSON.stringify(olds[name]) !== JSON.stringify(news[name])).sort();
  // Another endpoint is another runtime: the resources of the old one are not there.
  return { changes: diffs.length > 0, diffs, replaces: diffs.filter((name) => name === 'endpoint') };
}

const structOf = (bag: Record<string, unknown>, secrets?: ReadonlySet<string>) => Struct.fromJavaScript(encodeProperties(bag, secrets));
const tokenOf = (urn: string) => urn.split('::')[2] ?? '';
const nameOf = (urn: string) => urn.split('::')[3] ?? '';

/**
 * The `pulumirpc.ResourceProvider` service, implemented directly (SPEC §9): the stock SDK server ignores
 * Configure and cannot serve Read without properties (import). Secrets arrive wrapped and leave wrapped;
 * unknowns reach Check and Diff during preview; Create and Update with `preview` change nothing.
 */
export class ArgosyncProvider {
  /** The engine's log service (warnings from Check), when the engine gave its address. */
  readonly #engine: InstanceType<typeof engineGrpc.EngineClient> | undefined;
  #config: ProviderConfig = readProviderConfig({}, {});
  /** Cancel (the engine is shutting down): requests in flight and retries waiting on Retry-After stop. */
  readonly #cancellation = new AbortController();
  /** One client per configuration, so its connections (and TLS sessions) serve every call. */
  #client: ApiClient = apiClientFor(this.#config, this.#cancellation.signal);

  constructor(engineAddress: string | undefined) {
    this.#engine = engineAddress ? new engineGrpc.EngineClient(engineAddress, grpc.credentials.createInsecure()) : undefined;
  }

  /** A warning in the engine's output for `urn`; an engine that is gone misses it, which changes nothing. */
  #warn(urn: string, message: string): Promise<void> {
    const request = new enginePb.LogRequest().setSeverity(enginePb.LogSeverity.WARNING).setMessage(message).setUrn(urn);
    return new Promise((resolve) => (this.#engine ? this.#engine.log(request, () => resolve()) : resolve()));
  }

  service(): grpc.UntypedServiceImplementation {
    return {
      getPluginInfo: unary(async () => new pluginPb.PluginInfo().setVersion(PACKAGE_VERSION)),
      getSchema: unary(async () => new providerPb.GetSchemaResponse().setSchema(SCHEMA_TEXT)),
      handshake: unimplemented('Handshake'),
      checkConfig: unary(async (request: providerPb.CheckRequest) => checkResponse(request.getNews(), configFailures(decodeProperties(request.getNews()?.toJavaScript()).values))),
      diffConfig: unary(async (request: providerPb.DiffRequest) => {
        const olds = decodeProperties((request.getOldInputs() ?? request.getOlds())?.toJavaScript()).values;
        return diffResponse(configDiff(olds, decodeProperties(request.getNews()?.toJavaScript()).values), false);
      }),
      configure: unary(async (request: providerPb.ConfigureRequest) => {
        const variables = Object.fromEntries(request.getVariablesMap().entries());
        this.#config = readProviderConfig(decodeProperties(request.getArgs()?.toJavaScript()).values, variables);
        const previous = this.#client;
        this.#client = apiClientFor(this.#config, this.#cancellation.signal);
        await previous.close();
        return new providerPb.ConfigureResponse().setAcceptsecrets(true).setSupportspreview(true);
      }),
      check: unary(async (request: providerPb.CheckRequest) => {
        const news = decodeProperties(request.getNews()?.toJavaScript());
        const oldOutputs = request.getOldOutputs() ? decodeProperties(request.getOldOutputs()?.toJavaScript()).values : undefined;
        const result = this.#handler(request.getUrn()).check(news.values, oldOutputs);
        for (const warning of result.warnings ?? []) await this.#warn(request.getUrn(), warning);
        return checkResponse(structOf(result.inputs as Record<string, unknown>, news.secrets), result.failures);
      }),
      diff: unary(async (request: providerPb.DiffRequest) => {
        const olds = decodeProperties((request.getOldInputs() ?? request.getOlds())?.toJavaScript()).values;
        const news = decodeProperties(request.getNews()?.toJavaScript()).values;
        const handler = this.#handler(request.getUrn());
        // A replacement under the same id (the same limit, or `pulumi up --replace`) must delete first, or create finds it there.
        return diffResponse(handler.diff(olds as never, news as never), handler.idOf(news as never) === request.getId());
      }),
      create: unary(async (request: providerPb.CreateRequest) => {
        const inputs = decodeProperties(request.getProperties()?.toJavaScript());
        if (request.getPreview()) return new providerPb.CreateResponse().setProperties(structOf(inputs.values, inputs.secrets));
        const created = await this.#handler(request.getUrn()).create(nameOf(request.getUrn()), inputs.values as never);
        return new providerPb.CreateResponse().setId(created.id).setProperties(structOf(created.outputs as Record<string, unknown>, inputs.secrets));
      }),
      read: unary(async (request: providerPb.ReadRequest) => {
        const { values: recordedOutputs, secrets } = decodeProperties(request.getProperties()?.toJavaScript());
        const recorded = request.getInputs() ? decodeProperties(request.getInputs()?.toJavaScript()).values : undefined;
        const found = await this.#handler(request.getUrn()).read(request.getId(), recorded as never, recordedOutputs as never);
        if (!found) return new providerPb.ReadResponse().setId('');
        return new providerPb.ReadResponse()
          .setId(found.id)
          .setProperties(structOf(found.outputs as Record<string, unknown>, secrets))
          .setInputs(structOf(found.inputs as Record<string, unknown>, secrets));
      }),
      update: unary(async (request: providerPb.UpdateRequest) => {
        const olds = decodeProperties((request.getOldInputs() ?? request.getOlds())?.toJavaScript()).values;
        const oldOutputs = decodeProperties(request.getOlds()?.toJavaScript()).values;
        const news = decodeProperties(request.getNews()?.toJavaScript());
        if (request.getPreview()) return new providerPb.UpdateResponse().setProperties(structOf(news.values, news.secrets));
        const outputs = await this.#handler(request.getUrn()).update(request.getId(), olds as never, news.values as never, oldOutputs as never);
        return new providerPb.UpdateResponse().setProperties(structOf(outputs as Record<string, unknown>, news.secrets));
      }),
      delete: unary(async (request: providerPb.DeleteRequest) => {
        await this.#handler(request.getUrn()).delete(request.getId());
        return new Empty();
      }),
      cancel: unary(async () => {
        this.#cancellation.abort();
        return new Empty();
      }),
      invoke: unary(async (request: providerPb.InvokeRequest) => {
        const token = request.getTok();
        const dataSource = Object.hasOwn(FUNCTIONS, token) ? FUNCTIONS[token] : undefined;
        if (!dataSource) throw new Error(`function ${token} is not supported by this version of the argosync provider`);
        const result = await dataSource(this.#client, this.#config, decodeProperties(request.getArgs()?.toJavaScript()).values);
        const response = new providerPb.InvokeResponse();
        if (result.failures) return response.setFailuresList(wireFailures(result.failures));
        return response.setReturn(structOf(result.outputs));
      }),
      call: unimplemented('Call'),
      parameterize: unimplemented('Parameterize'),
      getMapping: unary(async () => new providerPb.GetMappingResponse()),
      getMappings: unary(async () => new providerPb.GetMappingsResponse()),
    };
  }

  #handler(urn: string): AnyHandler {
    const token = tokenOf(urn);
    const build = Object.hasOwn(HANDLERS, token) ? HANDLERS[token] : undefined;
    if (!build) throw new Error(`resource type ${token} is not supported by this version of the argosync provider`);
    return build(this.#client, this.#config);
  }
}

/** The function tokens this provider answers (the schema test checks them against schema.json). */
export const FUNCTION_TOKENS: readonly string[] = Object.keys(FUNCTIONS);

/** The component tokens this provider constructs (the schema test checks them against schema.json). */
export const COMPONENT_TOKENS: readonly string[] = [RUNTIME_TOKEN];

async function construct(name: string, type: string, inputs: pulumi.Inputs, options: pulumi.ComponentResourceOptions): Promise<pulumi.provider.ConstructResult> {
  if (type !== RUNTIME_TOKEN) throw new Error(`component type ${type} is not supported by this version of the argosync provider`);
  // Loaded on demand: @pulumi/kubernetes is large and only Construct needs it.
  const { constructRuntime } = await import('./resources/runtime.js');
  return constructRuntime(name, inputs, options);
}

const RESOURCE_PROVIDER_CONFIGURE = '/pulumirpc.ResourceProvider/Configure';

/** The engine's address: its first argument that is not a logging or tracing flag (`--tracing` takes a value). */
function engineAddressOf(args: readonly string[]): string | undefined {
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index]!;
    if (arg === '--tracing') index += 1;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

/**
 * Serves the provider the way the engine expects: the SDK's `main` binds a loopback port, prints it, and answers
 * Construct and Attach, whose program runtime (monitor connection, stack config, input deserialisation) lives
 * in the SDK; every other RPC is answered by ArgosyncProvider. `args` are the engine's (its address first).
 */
export async function serveProvider(args: readonly string[]): Promise<void> {
  const provider = new ArgosyncProvider(engineAddressOf(args));
  const addService = grpc.Server.prototype.addService;
  grpc.Server.prototype.addService = addServiceServing(provider, addService);
  try {
    await pulumi.provider.main({ version: PACKAGE_VERSION, construct }, [...args]);
  } finally {
    grpc.Server.prototype.addService = addService;
  }
}

type AddService = typeof grpc.Server.prototype.addService;

/**
 * grpc's `addService`, changed for the resource provider service only: `provider` answers its RPCs but Construct
 * and Attach, which stay the SDK's. Any other service the SDK adds is added as it is.
 */
export function addServiceServing(provider: ArgosyncProvider, addService: AddService): AddService {
  return function (this: grpc.Server, service, sdkService) {
    if (service.configure?.path !== RESOURCE_PROVIDER_CONFIGURE) return addService.call(this, service, sdkService);
    const fromSdk = (method: string) => (sdkService[method] as (...rest: unknown[]) => unknown).bind(sdkService);
    addService.call(this, service, { ...provider.service(), construct: fromSdk('construct'), attach: fromSdk('attach') });
  };
}
