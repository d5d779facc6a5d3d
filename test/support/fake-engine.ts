import * as grpc from '@grpc/grpc-js';
import engineGrpc from '@pulumi/pulumi/proto/engine_grpc_pb.js';
import enginePb from '@pulumi/pulumi/proto/engine_pb.js';
import resourceGrpc from '@pulumi/pulumi/proto/resource_grpc_pb.js';
import resourcePb from '@pulumi/pulumi/proto/resource_pb.js';
import emptyPb from 'google-protobuf/google/protobuf/empty_pb.js';
import structPb from 'google-protobuf/google/protobuf/struct_pb.js';
import type { JavaScriptValue } from 'google-protobuf/google/protobuf/struct_pb.js';

type Bag = Record<string, JavaScriptValue>;

/** One RegisterResource call as the engine receives it from a component's Construct. */
export interface Registration {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly parent: string;
  readonly custom: boolean;
  readonly provider: string;
  readonly inputs: Bag;
  readonly dependencies: readonly string[];
  readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
  readonly additionalSecretOutputs: readonly string[];
  /** The plugin version the SDK asked for. */
  readonly version: string;
}

const { ResourceMonitorFeature } = resourcePb;
const SUPPORTED = [
  ResourceMonitorFeature.RESOURCE_MONITOR_FEATURE_SECRETS,
  ResourceMonitorFeature.RESOURCE_MONITOR_FEATURE_RESOURCE_REFERENCES,
  ResourceMonitorFeature.RESOURCE_MONITOR_FEATURE_OUTPUT_VALUES,
  ResourceMonitorFeature.RESOURCE_MONITOR_FEATURE_ALIAS_SPECS,
  ResourceMonitorFeature.RESOURCE_MONITOR_FEATURE_DELETED_WITH,
];

type Handler<Request, Response> = (request: Request) => Response;
const unary =
  <Request, Response>(handle: Handler<Request, Response>) =>
  (call: grpc.ServerUnaryCall<Request, Response>, callback: grpc.sendUnaryData<Response>) =>
    callback(null, handle(call.request));

/**
 * The engine's side of Construct (pulumi-provider-notes §5): an `Engine` service (logs) and a
 * `ResourceMonitor` that records every registration, answers custom resources with their inputs as outputs and
 * a made-up id (as a preview would), and collects component outputs. Both listen on one loopback port.
 */
export class FakeEngine {
  readonly registrations: Registration[] = [];
  readonly outputs = new Map<string, Bag>();
  readonly logs: { severity: number; message: string }[] = [];
  /** Data source calls (Invoke) of a program, each answered with an empty result. */
  readonly invokes: { token: string; args: Bag; version: string }[] = [];

  private constructor(
    private readonly server: grpc.Server,
    readonly address: string,
    readonly project: string,
    readonly stack: string,
  ) {}

  static async start(project = 'argosync-test', stack = 'test'): Promise<FakeEngine> {
    const server = new grpc.Server();
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    const engine = new FakeEngine(server, `127.0.0.1:${port}`, project, stack);
    server.addService(engineGrpc.EngineService, engine.#engineService());
    server.addService(resourceGrpc.ResourceMonitorService, engine.#monitorService());
    return engine;
  }

  get stackUrn(): string {
    return `urn:pulumi:${this.stack}::${this.project}::pulumi:pulumi:Stack::${this.project}-${this.stack}`;
  }

  find(type: string, name: string): Registration {
    const found = this.registrations.find((registration) => registration.type === type && registration.name === name);
    if (!found) throw new Error(`${type} ${name} was not registered; registered: ${this.registrations.map((registration) => `${registration.type} ${registration.name}`).join(', ')}`);
    return found;
  }

  close(): void {
    this.server.forceShutdown();
  }

  #urnOf(type: string, name: string, parent: string): string {
    const parentType = parent && parent !== this.stackUrn ? `${parent.split('::')[2]}$` : '';
    return `urn:pulumi:${this.stack}::${this.project}::${parentType}${type}::${name}`;
  }

  #engineService(): grpc.UntypedServiceImplementation {
    return {
      log: unary((request: enginePb.LogRequest) => {
        this.logs.push({ severity: request.getSeverity(), message: request.getMessage() });
        return new emptyPb.Empty();
      }),
      getRootResource: unary(() => new enginePb.GetRootResourceResponse().setUrn(this.stackUrn)),
      setRootResource: unary(() => new enginePb.SetRootResourceResponse()),
    };
  }

  #monitorService(): grpc.UntypedServiceImplementation {
    return {
      getDeploymentInfo: unary(() => new resourcePb.DeploymentInfo().setSupportedfeaturesList(SUPPORTED)),
      supportsFeature: unary((request: resourcePb.SupportsFeatureRequest) => new resourcePb.SupportsFeatureResponse().setHassupport(['secrets', 'resourceReferences', 'outputValues', 'aliasSpecs', 'deletedWith'].includes(request.getId()))),
      registerResource: unary((request: resourcePb.RegisterResourceRequest) => {
        const urn = this.#urnOf(request.getType(), request.getName(), request.getParent());
        const inputs = (request.getObject()?.toJavaScript() ?? {}) as Bag;
        const propertyDependencies: Record<string, string[]> = {};
        request.getPropertydependenciesMap().forEach((dependencies, key) => (propertyDependencies[key] = dependencies.getUrnsList()));
        this.registrations.push({
          urn,
          type: request.getType(),
          name: request.getName(),
          parent: request.getParent(),
          custom: request.getCustom(),
          provider: request.getProvider(),
          inputs,
          dependencies: request.getDependenciesList(),
          propertyDependencies,
          additionalSecretOutputs: request.getAdditionalsecretoutputsList(),
          version: request.getVersion(),
        });
        const response = new resourcePb.RegisterResourceResponse().setUrn(urn);
        if (request.getCustom()) response.setId(`${request.getName()}-id`).setObject(structPb.Struct.fromJavaScript(inputs));
        return response;
      }),
      invoke: unary((request: resourcePb.ResourceInvokeRequest) => {
        this.invokes.push({ token: request.getTok(), args: (request.getArgs()?.toJavaScript() ?? {}) as Bag, version: request.getVersion() });
        return new resourcePb.ResourceInvokeResponse().setReturn(structPb.Struct.fromJavaScript({}));
      }),
      registerResourceOutputs: unary((request: resourcePb.RegisterResourceOutputsRequest) => {
        this.outputs.set(request.getUrn(), (request.getOutputs()?.toJavaScript() ?? {}) as Bag);
        return new emptyPb.Empty();
      }),
    };
  }
}
