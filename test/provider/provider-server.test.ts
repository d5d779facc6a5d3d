import * as grpc from '@grpc/grpc-js';
import engineGrpc from '@pulumi/pulumi/proto/engine_grpc_pb.js';
import providerGrpc from '@pulumi/pulumi/proto/provider_grpc_pb.js';
import { describe, expect, it } from 'vitest';
import { addServiceServing, ArgosyncProvider } from '../../provider/provider-server.js';

describe("the plugin's hook on the SDK's gRPC server", () => {
  const sdkImplementation = (service: grpc.ServiceDefinition) => Object.fromEntries(Object.keys(service).map((method) => [method, () => method]));
  const added: { service: grpc.ServiceDefinition; implementation: grpc.UntypedServiceImplementation }[] = [];
  const addService = addServiceServing(new ArgosyncProvider(undefined), (service, implementation) => void added.push({ service, implementation }));
  const server = new grpc.Server();

  it('serves the resource provider with its own RPCs, keeping the SDK\'s Construct and Attach', () => {
    const sdk = sdkImplementation(providerGrpc.ResourceProviderService);
    addService.call(server, providerGrpc.ResourceProviderService, sdk);
    const { implementation } = added.at(-1)!;
    expect(implementation.configure).not.toBe(sdk.configure);
    expect(implementation.read).not.toBe(sdk.read);
    expect((implementation.construct as () => string)()).toBe('construct');
    expect((implementation.attach as () => string)()).toBe('attach');
  });

  it('leaves any other service as the SDK gives it', () => {
    const sdk = sdkImplementation(engineGrpc.EngineService);
    addService.call(server, engineGrpc.EngineService, sdk);
    expect(added.at(-1)).toEqual({ service: engineGrpc.EngineService, implementation: sdk });
  });
});
