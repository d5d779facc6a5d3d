import { Ajv, type ErrorObject } from 'ajv';
import { InvalidArgumentError } from '../../errors.js';
import type { NewWorkflow } from '../../store/workflow-store.js';
import type { Template } from './workflow.js';
import { orderTasks } from './task-order.js';

const string = { type: 'string' } as const;
const strings = { type: 'array', items: string } as const;
const int32 = { type: 'integer', minimum: -2147483648, maximum: 2147483647 } as const;
const object = (properties: Record<string, unknown>, required: string[] = []) => ({ type: 'object', additionalProperties: false, properties, required });
const parameters = { type: 'array', items: object({ name: string, value: string }, ['name']) } as const;
const args = object({ parameters });
const env = { type: 'array', items: object({ name: string, value: string }, ['name']) } as const;
const container = { image: string, command: strings, args: strings, env, workingDir: string };
const semaphoreRef = object({ configMapKeyRef: object({ name: string, key: string, optional: { type: 'boolean' } }), database: object({ key: string }, ['key']), namespace: string });
const mutexRef = object({ name: string, namespace: string, database: { type: 'boolean' } }, ['name']);
const synchronization = object({ semaphores: { type: 'array', items: semaphoreRef }, mutexes: { type: 'array', items: mutexRef }, semaphore: semaphoreRef, mutex: mutexRef });
const step = object({ name: string, template: string, arguments: args }, ['name', 'template']);
const template = object(
  {
    name: string,
    inputs: object({ parameters }),
    container: object(container, ['image']),
    script: object({ ...container, source: string }, ['image', 'source']),
    steps: { type: 'array', items: { type: 'array', items: step } },
    dag: object({ tasks: { type: 'array', items: object({ name: string, template: string, arguments: args, dependencies: strings }, ['name', 'template']) } }, ['tasks']),
    suspend: object({ duration: string }),
    synchronization,
    activeDeadlineSeconds: { type: 'integer', minimum: 1 },
  },
  ['name'],
);
const labels = { type: 'object', additionalProperties: string } as const;
const manifestSchema = object(
  {
    apiVersion: { const: 'argoproj.io/v1alpha1' },
    kind: { const: 'Workflow' },
    metadata: object({ name: string, generateName: string, namespace: string, labels, annotations: labels }),
    spec: object(
      {
        entrypoint: string,
        arguments: args,
        priority: int32,
        synchronization,
        templates: { type: 'array', minItems: 1, items: template },
        activeDeadlineSeconds: { type: 'integer', minimum: 1 },
      },
      ['entrypoint', 'templates'],
    ),
    status: { type: 'object' },
  },
  ['metadata', 'spec'],
);

const validate = new Ajv({ allErrors: true, strict: false }).compile(manifestSchema);
const KINDS = ['container', 'script', 'steps', 'dag', 'suspend'] as const;
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Kubernetes truncates a longer generateName so that name = prefix + 5 random characters stays a valid name; argosync refuses it. */
const MAX_GENERATE_NAME = 58;
const NAME_RULE = "must consist of lower case alphanumeric characters, '-' or '.', and start and end with an alphanumeric character";

function pathOf(error: ErrorObject): string {
  return error.instancePath
    .split('/')
    .slice(1)
    .reduce((path, segment) => (/^\d+$/.test(segment) ? `${path}[${segment}]` : path ? `${path}.${segment}` : segment), '');
}

function describe(error: ErrorObject): string {
  const path = pathOf(error);
  if (error.keyword === 'additionalProperties') {
    const field = [path, (error.params as { additionalProperty: string }).additionalProperty].filter(Boolean).join('.');
    return `unsupported field ${field}: argosync does not implement it`;
  }
  if (error.keyword === 'required') return `${[path, (error.params as { missingProperty: string }).missingProperty].filter(Boolean).join('.')} is required`;
  return `${path || 'workflow'} ${error.message ?? 'is invalid'}`;
}

/**
 * Validates a submitted manifest (SPEC §6): the supported subset of Argo's Workflow, unsupported fields
 * rejected by name, and the references between templates, steps and tasks checked before it is stored.
 */
export function parseWorkflowManifest(input: unknown, namespace: string): NewWorkflow {
  if (!validate(input)) {
    const messages = [...new Set((validate.errors ?? []).map(describe))];
    throw new InvalidArgumentError(`invalid workflow: ${messages.join('; ')}`);
  }
  const manifest = input as unknown as NewWorkflow & { status?: unknown };
  const { metadata, spec } = manifest;
  const problems: string[] = [];
  if (metadata.namespace !== undefined && metadata.namespace !== namespace) {
    problems.push(`metadata.namespace "${metadata.namespace}" does not match the namespace "${namespace}" of the request`);
  }
  if (!metadata.name && !metadata.generateName) problems.push('metadata.name or metadata.generateName is required');
  const nul = pathWithNul(input, '');
  if (nul !== undefined) problems.push(`${nul || 'workflow'} must not contain a NUL character`);
  if (metadata.name !== undefined && (metadata.name.length > 253 || !NAME.test(metadata.name))) {
    problems.push(`metadata.name ${JSON.stringify(metadata.name)} ${NAME_RULE}`);
  }
  if (metadata.generateName !== undefined && !metadata.name) {
    const prefix = metadata.generateName;
    // The suffix is alphanumeric, so the prefix may end with '-' or '.' but must otherwise read as a name.
    if (prefix.length > MAX_GENERATE_NAME) problems.push(`metadata.generateName must be at most ${MAX_GENERATE_NAME} characters, got ${prefix.length}`);
    else if (!NAME.test(`${prefix}a`)) problems.push(`metadata.generateName ${JSON.stringify(prefix)} ${NAME_RULE}`);
  }
  for (const [key, value] of Object.entries(metadata.labels ?? {})) {
    if (value.length > 63) problems.push(`metadata.labels.${key}: a label value must be no more than 63 characters`);
  }
  problems.push(...templateProblems(spec.templates, spec.entrypoint));
  if (problems.length > 0) throw new InvalidArgumentError(`invalid workflow: ${problems.join('; ')}`);
  const { status: _ignored, ...workflow } = manifest;
  return { ...workflow, metadata: { ...metadata, namespace } };
}

/** The path of the first string (value or key) holding a NUL: stores reject it, so it is refused here with its place. */
function pathWithNul(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, item] of Object.entries(value)) {
    const itemPath = Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
    if (key.includes('\u0000')) return path || 'workflow';
    const found = pathWithNul(item, itemPath);
    if (found !== undefined) return found;
  }
  return undefined;
}

function templateProblems(templates: readonly Template[], entrypoint: string): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  for (const [index, template] of templates.entries()) {
    if (names.has(template.name)) problems.push(`spec.templates[${index}]: duplicate template name "${template.name}"`);
    names.add(template.name);
    const kinds = KINDS.filter((kind) => template[kind] !== undefined);
    if (kinds.length !== 1) problems.push(`spec.templates[${index}] (${template.name}) must have exactly one of ${KINDS.join(', ')}${kinds.length ? `, found ${kinds.join(', ')}` : ''}`);
  }
  if (!names.has(entrypoint)) problems.push(`spec.entrypoint: template "${entrypoint}" not found`);
  for (const [index, template] of templates.entries()) {
    const where = `spec.templates[${index}] (${template.name})`;
    for (const [group, steps] of (template.steps ?? []).entries()) {
      for (const step of steps) if (!names.has(step.template)) problems.push(`${where} steps[${group}].${step.name}: template "${step.template}" not found`);
    }
    const tasks = template.dag?.tasks ?? [];
    const taskNames = new Set(tasks.map((task) => task.name));
    for (const task of tasks) {
      if (!names.has(task.template)) problems.push(`${where} dag task ${task.name}: template "${task.template}" not found`);
      for (const dependency of task.dependencies ?? []) if (!taskNames.has(dependency)) problems.push(`${where} dag task ${task.name}: dependency "${dependency}" not found`);
    }
    const order = orderTasks(tasks);
    if ('cycle' in order) problems.push(`${where}: dependency cycle ${order.cycle.join(' -> ')}`);
  }
  return problems;
}
