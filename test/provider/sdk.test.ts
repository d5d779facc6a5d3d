import { readdirSync, readFileSync } from 'node:fs';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { COMPONENT_TOKENS, FUNCTION_TOKENS, SERVED_TOKENS } from '../../provider/provider-server.js';
import * as sdk from '../../sdk/nodejs/index.js';

interface ResourceSpec {
  readonly isComponent?: boolean;
  readonly inputProperties?: Record<string, unknown>;
  readonly requiredInputs?: readonly string[];
  readonly properties?: Record<string, unknown>;
}
interface FunctionSpec {
  readonly inputs: { readonly properties: Record<string, unknown>; readonly required?: readonly string[] };
  readonly outputs: { readonly properties: Record<string, unknown> };
}
const schema = JSON.parse(readFileSync(new URL('../../schema.json', import.meta.url), 'utf8')) as { resources: Record<string, ResourceSpec>; functions: Record<string, FunctionSpec> };

/** Property names of every `interface` in the SDK sources, with `extends` (and `Partial<...>`) followed. */
function sdkInterfaces(): Map<string, string[]> {
  const directory = new URL('../../sdk/nodejs/', import.meta.url);
  const own = new Map<string, { members: string[]; bases: string[] }>();
  for (const file of readdirSync(directory).filter((name) => name.endsWith('.ts'))) {
    const source = ts.createSourceFile(file, readFileSync(new URL(file, directory), 'utf8'), ts.ScriptTarget.ES2022);
    source.forEachChild((node) => {
      if (!ts.isInterfaceDeclaration(node)) return;
      const members = node.members.flatMap((member) => (member.name && ts.isIdentifier(member.name) ? [member.name.text] : []));
      const bases = (node.heritageClauses ?? []).flatMap((clause) => clause.types.map((type) => type.getText(source).replace(/^Partial<(.*)>$/, '$1')));
      own.set(node.name.text, { members, bases });
    });
  }
  const resolve = (name: string): string[] => [...(own.get(name)?.members ?? []), ...(own.get(name)?.bases ?? []).flatMap(resolve)];
  return new Map([...own.keys()].map((name) => [name, resolve(name)]));
}

describe('schema, SDK and provider agree', () => {
  const classes = Object.values(sdk).filter((value): value is typeof sdk.SemaphoreLimit => typeof value === 'function' && '__pulumiType' in value);

  it('every resource token has an SDK class and every SDK class a token', () => {
    const tokens = classes.map((resource) => resource.__pulumiType).filter((token) => token.includes(':'));
    expect(tokens.sort()).toEqual(Object.keys(schema.resources).sort());
  });

  it('every custom resource token is served by the plugin, every component is constructed by it, and nothing else is', () => {
    const tokensWhere = (component: boolean) => Object.entries(schema.resources).filter(([, spec]) => Boolean(spec.isComponent) === component).map(([token]) => token).sort();
    expect([...SERVED_TOKENS].sort()).toEqual(tokensWhere(false));
    expect([...COMPONENT_TOKENS].sort()).toEqual(tokensWhere(true));
  });

  it("each SDK class takes exactly the schema's inputs, requires the schema's required inputs, and knows its outputs", () => {
    const interfaces = sdkInterfaces();
    for (const resource of classes.filter((candidate) => candidate.__pulumiType.includes(':'))) {
      const token = resource.__pulumiType;
      const spec = schema.resources[token]!;
      const name = token.split(':')[2]!;
      expect(interfaces.get(`${name}Args`)?.sort(), token).toEqual(Object.keys(spec.inputProperties ?? {}).sort());
      const statics = resource as unknown as { requiredInputs: readonly string[]; outputsOnly: readonly string[] };
      expect([...statics.requiredInputs].sort(), token).toEqual([...(spec.requiredInputs ?? [])].sort());
      const outputsOnly = Object.keys(spec.properties ?? {}).filter((property) => !(property in (spec.inputProperties ?? {})));
      expect([...statics.outputsOnly].sort(), token).toEqual(outputsOnly.sort());
    }
  });

  it('every function of the schema is answered by the plugin and exported by the SDK with its inputs', () => {
    expect([...FUNCTION_TOKENS].sort()).toEqual(Object.keys(schema.functions).sort());
    const interfaces = sdkInterfaces();
    for (const [token, spec] of Object.entries(schema.functions)) {
      const name = token.split(':')[2]!;
      const exported = sdk as unknown as Record<string, unknown>;
      expect(typeof exported[name], name).toBe('function');
      expect(typeof exported[`${name}Output`], `${name}Output`).toBe('function');
      const argsName = `${name[0]!.toUpperCase()}${name.slice(1)}Args`;
      if (Object.keys(spec.inputs.properties).length > 0) expect(interfaces.get(argsName)?.sort(), token).toEqual(Object.keys(spec.inputs.properties).sort());
      const resultName = `${name[0]!.toUpperCase()}${name.slice(1)}Result`;
      expect(interfaces.get(resultName)?.sort(), token).toEqual(Object.keys(spec.outputs.properties).sort());
    }
  });
});
