import * as pulumi from '@pulumi/pulumi';

/** A resource the program registered, as the engine would receive it. */
export interface RegisteredResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * Installs `pulumi.runtime.setMocks` recording every resource registered. Registration is asynchronous:
 * `all` resolves once `expected` resources (the component itself included) have been registered.
 */
export async function recordResources(expected: number): Promise<{ registered: RegisteredResource[]; all: Promise<void> }> {
  const registered: RegisteredResource[] = [];
  let done: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (done = resolve));
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        if (registered.length === expected) done();
        return { id: `${args.name}-id`, state: { ...args.inputs, metadata: { ...args.inputs.metadata, name: args.inputs.metadata?.name ?? args.name } } };
      },
      call: (args) => args.inputs,
    },
    'argosync-test',
    'dev',
    false,
  );
  return { registered, all };
}
