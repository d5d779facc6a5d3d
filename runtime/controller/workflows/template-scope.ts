import type { Arguments, Container, Parameter, Template, Workflow } from './workflow.js';

/** Values a template's fields may refer to: `{{workflow.*}}`, `{{inputs.parameters.*}}`, `{{steps|tasks.<name>.outputs.result}}`. */
export type Scope = ReadonlyMap<string, string>;

const REFERENCE = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

/** Replaces every `{{name}}` the scope knows; unknown references are left as written. */
export function substitute(text: string, scope: Scope): string {
  return text.replace(REFERENCE, (whole, name: string) => scope.get(name) ?? whole);
}

export function workflowScope(workflow: Workflow): Map<string, string> {
  const scope = new Map<string, string>([
    ['workflow.name', workflow.metadata.name],
    ['workflow.namespace', workflow.metadata.namespace],
    ['workflow.uid', workflow.metadata.uid],
    ['workflow.priority', String(workflow.spec.priority ?? 0)],
  ]);
  for (const parameter of workflow.spec.arguments?.parameters ?? []) scope.set(`workflow.parameters.${parameter.name}`, parameter.value ?? '');
  return scope;
}

/**
 * The scope inside a template invoked with `args` (already substituted by the caller): the workflow scope plus
 * `inputs.parameters.*`, each input taking the argument or else its default. Throws naming a missing input.
 */
export function templateScope(outer: Scope, template: Template, args: Arguments | undefined): Map<string, string> {
  const scope = new Map([...outer].filter(([name]) => name.startsWith('workflow.')));
  const given = new Map((args?.parameters ?? []).map((parameter) => [parameter.name, parameter.value]));
  for (const input of template.inputs?.parameters ?? []) {
    const value = given.get(input.name) ?? input.value;
    if (value === undefined) throw new Error(`inputs.parameters.${input.name} was not supplied`);
    scope.set(`inputs.parameters.${input.name}`, value);
  }
  return scope;
}

export function substituteArguments(args: Arguments | undefined, scope: Scope): Arguments | undefined {
  if (!args?.parameters) return args;
  return { parameters: args.parameters.map((parameter: Parameter) => ({ name: parameter.name, ...(parameter.value === undefined ? {} : { value: substitute(parameter.value, scope) }) })) };
}

export function substituteContainer(container: Container, scope: Scope): Container {
  return {
    ...container,
    image: substitute(container.image, scope),
    ...(container.command ? { command: container.command.map((part) => substitute(part, scope)) } : {}),
    ...(container.args ? { args: container.args.map((part) => substitute(part, scope)) } : {}),
    ...(container.env ? { env: container.env.map((variable) => ({ name: variable.name, ...(variable.value === undefined ? {} : { value: substitute(variable.value, scope) }) })) } : {}),
  };
}
