import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import {
  KubeConfig,
  type V1Status,
  type V1StatusCause,
  type V1StatusDetails,
  type V1SubjectAccessReviewSpec,
  type V1SubjectAccessReviewStatus,
  type V1UserInfo,
} from '@kubernetes/client-node';
import { configMapKeyProblem, subdomainProblem } from '../../runtime/store/kubernetes-names.js';

/**
 * An in-process Kubernetes API server for tests (SPEC §10): the real REST paths, status codes and `Status`
 * bodies for ConfigMaps, Pods, Leases, ServiceAccounts and Secrets, TokenReviews and (Self)SubjectAccessReviews, with one global
 * resourceVersion counter like etcd's, optimistic concurrency, name validation and watch streams.
 *
 * Simplifications: every namespace exists; deletes are immediate (no finalizers or grace periods);
 * strategic merge patches are applied as JSON merge patches; `limit`/`continue` are ignored (lists are whole).
 */

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** An object as it travels as JSON. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

/** An object as the server keeps it: metadata complete. */
export interface StoredObject extends KubeObject {
  metadata: ObjectMeta & { name: string; namespace: string; uid: string; resourceVersion: string; creationTimestamp: string };
}

interface ResourceType {
  readonly apiVersion: string;
  readonly kind: string;
  /**
   * Set for resources with a `/status` subresource: what `status` becomes on create. PUT and PATCH of the
   * object then keep `status`, and those of `/status` change nothing else.
   */
  readonly initialStatus?: Record<string, unknown>;
  /** Problems beyond the name. */
  readonly validate?: (object: KubeObject) => FieldProblem[];
}

export const RESOURCES = {
  configmaps: { apiVersion: 'v1', kind: 'ConfigMap', validate: configMapKeyProblems },
  pods: { apiVersion: 'v1', kind: 'Pod', initialStatus: { phase: 'Pending' } },
  leases: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' },
  serviceaccounts: { apiVersion: 'v1', kind: 'ServiceAccount' },
  secrets: { apiVersion: 'v1', kind: 'Secret' },
} as const satisfies Record<string, ResourceType>;

export type ResourceName = keyof typeof RESOURCES;

const REVIEWS = {
  tokenreviews: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview' },
  subjectaccessreviews: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview' },
  selfsubjectaccessreviews: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview' },
} as const;

type ReviewName = keyof typeof REVIEWS;

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** Who holds a token, as a TokenReview would say; undefined when the token is not valid. */
export type TokenReviewer = (token: string) => V1UserInfo | undefined | Promise<V1UserInfo | undefined>;
/** The verdict on a (Self)SubjectAccessReview; for a self review `spec.user` is the caller's. */
export type AccessReviewer = (spec: V1SubjectAccessReviewSpec) => V1SubjectAccessReviewStatus | Promise<V1SubjectAccessReviewStatus>;

export interface KubeApiServerOptions {
  /** When set, every request must carry `Authorization: Bearer <token>`, or it gets a 401 Status. */
  readonly token?: string;
}

export interface KubeApiServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly token: string | undefined;
  /** Ends every open watch and stops listening. */
  close(): Promise<void>;
  /** Decides TokenReviews (default: no token is valid). */
  setTokenReview(review: TokenReviewer): void;
  /** Decides SubjectAccessReviews and SelfSubjectAccessReviews (default: nothing is allowed). */
  setAccessReview(review: AccessReviewer): void;
  get(resource: ResourceName, namespace: string, name: string): StoredObject | undefined;
  /** Sorted by namespace and name, as etcd returns them. */
  list(resource: ResourceName, namespace?: string): StoredObject[];
  /**
   * Creates or replaces an object as given, status included and without version checks (names are still
   * validated; the namespace defaults to `default`); watchers see it.
   */
  seed(resource: ResourceName, object: KubeObject): StoredObject;
  /** Deletes an object; watchers see it. */
  remove(resource: ResourceName, namespace: string, name: string): void;
  /** Cuts every open watch connection, as a restarting API server or a proxy would; says how many. */
  dropWatches(): number;
  /** Forgets the event history up to now, like etcd compaction: resuming a watch from before gets 410 Gone. */
  compact(): void;
}

// ---------------------------------------------------------------------------------------------------------
// Status errors

class StatusError extends Error {
  constructor(readonly status: V1Status & { code: number }) {
    super(status.message);
  }
}

function failure(code: number, reason: string, message: string, details?: V1StatusDetails): StatusError {
  return new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details && { details }), code });
}

function groupOf(resource: ResourceName): string {
  const apiVersion: string = RESOURCES[resource].apiVersion;
  return apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '';
}

/** `configmaps` or `leases.coordination.k8s.io` (or with the kind, `Lease.coordination.k8s.io`), as Kubernetes says in messages. */
function qualified(resource: ResourceName, term: string = resource): string {
  const group = groupOf(resource);
  return group ? `${term}.${group}` : term;
}

function detailsFor(resource: ResourceName, name: string): V1StatusDetails {
  const group = groupOf(resource);
  return { name, ...(group && { group }), kind: resource };
}

const notFound = (resource: ResourceName, name: string) =>
  failure(404, 'NotFound', `${qualified(resource)} ${JSON.stringify(name)} not found`, detailsFor(resource, name));

const alreadyExists = (resource: ResourceName, name: string) =>
  failure(409, 'AlreadyExists', `${qualified(resource)} ${JSON.stringify(name)} already exists`, detailsFor(resource, name));

const conflict = (resource: ResourceName, name: string) =>
  failure(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(resource)} ${JSON.stringify(name)}: the object has been modified; please apply your changes to the latest version and try again`,
    detailsFor(resource, name),
  );

const badRequest = (message: string) => failure(400, 'BadRequest', message);

const unknownPath = () => failure(404, 'NotFound', 'the server could not find the requested resource', {});
const methodNotAllowed = () => failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});

interface FieldProblem {
  readonly field: string;
  /** Undefined for a missing value (`Required value`). */
  readonly value?: string;
  readonly detail: string;
}

function invalid(resource: ResourceName, name: string, problems: readonly FieldProblem[]): StatusError {
  const causes: V1StatusCause[] = problems.map(({ field, value, detail }) =>
    value === undefined
      ? { reason: 'FieldValueRequired', message: `Required value: ${detail}`, field }
      : { reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)}: ${detail}`, field },
  );
  const errors = causes.map((cause) => `${cause.field}: ${cause.message}`);
  // Kubernetes prints one error bare and several as an aggregate: `[a, b]`.
  const text = errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`;
  const { kind } = RESOURCES[resource];
  const group = groupOf(resource);
  return failure(422, 'Invalid', `${qualified(resource, kind)} ${JSON.stringify(name)} is invalid: ${text}`, { name, ...(group && { group }), kind, causes });
}

function configMapKeyProblems(object: KubeObject): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const field of ['data', 'binaryData']) {
    for (const key of Object.keys(asRecord(object[field]))) {
      const detail = configMapKeyProblem(key);
      if (detail) problems.push({ field: `${field}[${key}]`, value: key, detail });
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------
// The object store: objects, one revision counter, the event history and the watchers

type WatchEvent = { readonly revision: number; readonly resource: ResourceName; readonly object: StoredObject } & (
  | { readonly type: 'ADDED' | 'DELETED' }
  | { readonly type: 'MODIFIED'; readonly previous: StoredObject }
);

interface Watcher {
  readonly resource: ResourceName;
  readonly namespace: string | undefined;
  readonly matches: (object: StoredObject) => boolean;
  readonly send: (type: EventType, object: StoredObject) => void;
}

/** Which part of an object a write may change. */
type Write = 'object' | 'status' | 'seed';

class ObjectStore {
  #revision = 0;
  #compacted = 0;
  readonly #objects = new Map<ResourceName, Map<string, StoredObject>>();
  readonly #history: WatchEvent[] = [];
  readonly #watchers = new Set<Watcher>();

  get revision(): string {
    return String(this.#revision);
  }

  get(resource: ResourceName, namespace: string, name: string): StoredObject | undefined {
    return this.#table(resource).get(`${namespace}/${name}`);
  }

  /** The object, or a 404 Status. */
  read(resource: ResourceName, namespace: string, name: string): StoredObject {
    const object = this.get(resource, namespace, name);
    if (!object) throw notFound(resource, name);
    return object;
  }

  list(resource: ResourceName, namespace: string | undefined, matches: (object: StoredObject) => boolean = () => true): StoredObject[] {
    return [...this.#table(resource).entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, object]) => object)
      .filter((object) => (namespace === undefined || object.metadata.namespace === namespace) && matches(object));
  }

  create(resource: ResourceName, namespace: string, body: KubeObject, write: 'object' | 'seed'): StoredObject {
    const type = RESOURCES[resource];
    const metadata = body.metadata ?? {};
    const name = metadata.name || (metadata.generateName && generatedName(metadata.generateName));
    if (!name) throw invalid(resource, '', [{ field: 'metadata.name', detail: 'name or generateName is required' }]);
    checkNamespace(metadata, namespace);
    this.#validate(resource, name, body);
    if (this.get(resource, namespace, name)) throw alreadyExists(resource, name);
    const object: StoredObject = {
      ...body,
      apiVersion: type.apiVersion,
      kind: type.kind,
      metadata: { ...metadata, name, namespace, uid: randomUUID(), resourceVersion: this.#nextRevision(), creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') },
    };
    if ('initialStatus' in type && write !== 'seed') object.status = structuredClone(type.initialStatus);
    this.#table(resource).set(`${namespace}/${name}`, object);
    this.#commit({ revision: this.#revision, resource, type: 'ADDED', object });
    return object;
  }

  /** A PUT: refuses a stale `metadata.resourceVersion` (none means unconditional); an unchanged object is not written. */
  replace(resource: ResourceName, namespace: string, name: string, body: KubeObject, write: Write): StoredObject {
    const current = this.read(resource, namespace, name);
    const metadata = body.metadata ?? {};
    if (metadata.name !== undefined && metadata.name !== name) {
      throw badRequest(`the name of the object (${metadata.name}) does not match the name on the URL (${name})`);
    }
    checkNamespace(metadata, namespace);
    if (write !== 'seed' && metadata.resourceVersion && metadata.resourceVersion !== current.metadata.resourceVersion) throw conflict(resource, name);
    const type = RESOURCES[resource];
    let next: StoredObject;
    if (write === 'status') {
      next = { ...current, status: body.status };
    } else {
      next = { ...body, apiVersion: type.apiVersion, kind: type.kind, metadata: { ...metadata, ...pickIdentity(current) } };
      if ('initialStatus' in type && write === 'object') next.status = current.status;
      this.#validate(resource, name, next);
    }
    if (isDeepStrictEqual(next, current)) return current;
    const object = { ...next, metadata: { ...next.metadata, resourceVersion: this.#nextRevision() } };
    this.#table(resource).set(`${namespace}/${name}`, object);
    this.#commit({ revision: this.#revision, resource, type: 'MODIFIED', object, previous: current });
    return object;
  }

  delete(resource: ResourceName, namespace: string, name: string): StoredObject {
    const current = this.read(resource, namespace, name);
    this.#table(resource).delete(`${namespace}/${name}`);
    const object = { ...current, metadata: { ...current.metadata, resourceVersion: this.#nextRevision() } };
    this.#commit({ revision: this.#revision, resource, type: 'DELETED', object });
    return object;
  }

  /**
   * Starts a watch. Without `from` (or from "0") it first sends the current objects as ADDED, as Kubernetes
   * does; from a resourceVersion it replays what happened after it, or throws 410 when that is compacted away.
   */
  watch(watcher: Watcher, from: number | undefined): () => void {
    if (from === undefined || from === 0) {
      for (const object of this.list(watcher.resource, watcher.namespace, watcher.matches)) watcher.send('ADDED', object);
    } else {
      if (from < this.#compacted) throw failure(410, 'Expired', `too old resource version: ${from} (${this.#compacted})`);
      for (const event of this.#history) if (event.revision > from) deliver(watcher, event);
    }
    this.#watchers.add(watcher);
    return () => this.#watchers.delete(watcher);
  }

  compact(): void {
    this.#compacted = this.#revision;
    this.#history.length = 0;
  }

  #table(resource: ResourceName): Map<string, StoredObject> {
    let table = this.#objects.get(resource);
    if (!table) this.#objects.set(resource, (table = new Map()));
    return table;
  }

  #nextRevision(): string {
    this.#revision += 1;
    return String(this.#revision);
  }

  #validate(resource: ResourceName, name: string, object: KubeObject): void {
    const problems: FieldProblem[] = [];
    const nameProblem = subdomainProblem(name);
    if (nameProblem) problems.push({ field: 'metadata.name', value: name, detail: nameProblem });
    const type: ResourceType = RESOURCES[resource];
    problems.push(...(type.validate?.(object) ?? []));
    if (problems.length > 0) throw invalid(resource, name, problems);
  }

  #commit(event: WatchEvent): void {
    this.#history.push(event);
    for (const watcher of this.#watchers) deliver(watcher, event);
  }
}

/** What a watcher sees of an event: objects entering its selector are ADDED to it, objects leaving it DELETED. */
function deliver(watcher: Watcher, event: WatchEvent): void {
  const { object } = event;
  if (event.resource !== watcher.resource || (watcher.namespace !== undefined && object.metadata.namespace !== watcher.namespace)) return;
  const matchesNow = watcher.matches(object);
  if (event.type !== 'MODIFIED') {
    if (matchesNow) watcher.send(event.type, object);
    return;
  }
  const matchedBefore = watcher.matches(event.previous);
  if (matchesNow) watcher.send(matchedBefore ? 'MODIFIED' : 'ADDED', object);
  else if (matchedBefore) watcher.send('DELETED', { ...event.previous, metadata: { ...event.previous.metadata, resourceVersion: object.metadata.resourceVersion } });
}

function checkNamespace(metadata: ObjectMeta, namespace: string): void {
  if (metadata.namespace !== undefined && metadata.namespace !== '' && metadata.namespace !== namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
}

function pickIdentity(object: StoredObject): Pick<StoredObject['metadata'], 'name' | 'namespace' | 'uid' | 'resourceVersion' | 'creationTimestamp'> {
  const { name, namespace, uid, resourceVersion, creationTimestamp } = object.metadata;
  return { name, namespace, uid, resourceVersion, creationTimestamp };
}

/** Kubernetes's generated names: the prefix (at most 58 characters) and five characters without vowels. */
function generatedName(prefix: string): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += alphabet[Math.floor(Math.random() * alphabet.length)];
  return prefix.slice(0, 58) + suffix;
}

// ---------------------------------------------------------------------------------------------------------
// Selectors: labelSelector (`a=b`, `a==b`, `a!=b`, `a`, `!a`) and fieldSelector (metadata.name, metadata.namespace)

function selectorMatcher(labelSelector: string | null, fieldSelector: string | null): (object: StoredObject) => boolean {
  const labels = parseRequirements(labelSelector ?? '', true);
  const fields = parseRequirements(fieldSelector ?? '', false);
  for (const { key } of fields) {
    if (key !== 'metadata.name' && key !== 'metadata.namespace') throw badRequest(`field label not supported: ${key}`);
  }
  return (object) =>
    labels.every((requirement) => satisfies(requirement, object.metadata.labels?.[requirement.key])) &&
    fields.every((requirement) => satisfies(requirement, requirement.key === 'metadata.name' ? object.metadata.name : object.metadata.namespace));
}

interface Requirement {
  readonly key: string;
  readonly operator: '=' | '!=' | 'exists' | '!exists';
  readonly value: string;
}

function parseRequirements(selector: string, allowExistence: boolean): Requirement[] {
  return selector
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      const comparison = /^([^=!\s]+)\s*(==|=|!=)\s*([^=!\s]*)$/.exec(part);
      if (comparison) return { key: comparison[1] ?? '', operator: comparison[2] === '!=' ? '!=' : '=', value: comparison[3] ?? '' };
      const existence = /^(!?)([^=!\s]+)$/.exec(part);
      if (existence && allowExistence) return { key: existence[2] ?? '', operator: existence[1] ? '!exists' : 'exists', value: '' };
      throw badRequest(`unable to parse requirement: ${JSON.stringify(part)}`);
    });
}

function satisfies(requirement: Requirement, actual: string | undefined): boolean {
  switch (requirement.operator) {
    case '=':
      return actual === requirement.value;
    case '!=':
      return actual !== requirement.value;
    case 'exists':
      return actual !== undefined;
    case '!exists':
      return actual === undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Patches: JSON merge patch (RFC 7386; strategic merge patches are treated as such) and JSON patch (RFC 6902)

const MERGE_PATCH_TYPES = ['application/merge-patch+json', 'application/strategic-merge-patch+json'];
const JSON_PATCH_TYPE = 'application/json-patch+json';

function applyPatch(contentType: string, target: StoredObject, patch: unknown): KubeObject {
  if (MERGE_PATCH_TYPES.includes(contentType)) {
    if (!isRecord(patch)) throw badRequest('the patch must be a JSON object');
    return mergePatch(target, patch) as KubeObject;
  }
  if (contentType === JSON_PATCH_TYPE) {
    if (!Array.isArray(patch)) throw badRequest('a JSON patch must be an array of operations');
    return jsonPatch(target, patch) as KubeObject;
  }
  throw failure(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${[JSON_PATCH_TYPE, ...MERGE_PATCH_TYPES].join(', ')}`,
  );
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return patch;
  const result: Record<string, unknown> = isRecord(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function jsonPatch(target: unknown, operations: unknown[]): unknown {
  const root = { document: structuredClone(target) };
  for (const operation of operations) {
    if (!isRecord(operation)) throw patchFailure('a JSON patch operation must be an object');
    const path = pointer(operation.path);
    switch (operation.op) {
      case 'add':
        put(root, path, structuredClone(operation.value));
        break;
      case 'replace':
        take(root, path);
        put(root, path, structuredClone(operation.value));
        break;
      case 'remove':
        take(root, path);
        break;
      case 'move':
        put(root, path, take(root, pointer(operation.from)));
        break;
      case 'copy':
        put(root, path, structuredClone(read(root, pointer(operation.from))));
        break;
      case 'test':
        if (!isDeepStrictEqual(read(root, path), operation.value)) throw patchFailure(`testing value ${String(operation.path)} failed`);
        break;
      default:
        throw patchFailure(`unexpected JSON patch operation ${JSON.stringify(operation.op)}`);
    }
  }
  return root.document;
}

const patchFailure = (message: string) => failure(422, 'Invalid', message);

/** A JSON pointer as keys below the synthetic root `{document}`. */
function pointer(path: unknown): string[] {
  if (typeof path !== 'string' || (path !== '' && !path.startsWith('/'))) throw patchFailure(`invalid JSON pointer ${JSON.stringify(path)}`);
  const tokens = path === '' ? [] : path.slice(1).split('/').map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'));
  return ['document', ...tokens];
}

/** The container holding the last key of `path`, which must exist. */
function parentOf(root: object, path: string[]): Record<string, unknown> | unknown[] {
  let node: unknown = root;
  for (const key of path.slice(0, -1)) {
    node = isRecord(node) || Array.isArray(node) ? (node as Record<string, unknown>)[key] : undefined;
    if (node === undefined) throw patchFailure(`doc is missing path: /${path.slice(1).join('/')}`);
  }
  if (!isRecord(node) && !Array.isArray(node)) throw patchFailure(`doc is missing path: /${path.slice(1).join('/')}`);
  return node;
}

function arrayIndex(array: unknown[], key: string, appending: boolean): number {
  const index = key === '-' && appending ? array.length : Number(key);
  if (!/^(0|[1-9]\d*|-)$/.test(key) || index > array.length - (appending ? 0 : 1)) throw patchFailure(`array index out of bounds: ${key}`);
  return index;
}

function read(root: object, path: string[]): unknown {
  const parent = parentOf(root, path);
  const key = path.at(-1) ?? '';
  const value = Array.isArray(parent) ? parent[arrayIndex(parent, key, false)] : parent[key];
  if (value === undefined) throw patchFailure(`doc is missing path: /${path.slice(1).join('/')}`);
  return value;
}

/** Sets a member, or inserts into an array (`-` appends). */
function put(root: object, path: string[], value: unknown): void {
  const parent = parentOf(root, path);
  const key = path.at(-1) ?? '';
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, true), 0, value);
  else parent[key] = value;
}

function take(root: object, path: string[]): unknown {
  const value = read(root, path);
  const parent = parentOf(root, path);
  const key = path.at(-1) ?? '';
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, false), 1);
  else delete parent[key];
  return value;
}

// ---------------------------------------------------------------------------------------------------------
// HTTP

type ResourceRoute = { readonly kind: 'resource'; readonly resource: ResourceName; readonly namespace?: string; readonly name?: string; readonly status: boolean };
type Route = { readonly kind: 'review'; readonly review: ReviewName } | ResourceRoute;

/** `key` when it names an entry of `table`. */
function entryOf<T extends object>(table: T, key: string | undefined): keyof T | undefined {
  return key !== undefined && Object.hasOwn(table, key) ? (key as keyof T) : undefined;
}

/** `/api/v1/...` or `/apis/<group>/<version>/...`, then `<resource>` or `namespaces/<ns>/<resource>[/<name>[/status]]`. */
function parseRoute(pathname: string): Route {
  const segments = pathname.split('/').filter((segment) => segment !== '').map(decodeURIComponent);
  const [root, ...rest] = segments;
  const versionLength = root === 'api' ? 1 : root === 'apis' ? 2 : 0;
  if (versionLength === 0 || rest.length <= versionLength) throw unknownPath();
  const apiVersion = rest.slice(0, versionLength).join('/');
  const path = rest.slice(versionLength);

  const review = entryOf(REVIEWS, path[0]);
  if (review && path.length === 1 && REVIEWS[review].apiVersion === apiVersion) return { kind: 'review', review };
  const [first, namespace, resourceName, name, subresource, ...extra] = path[0] === 'namespaces' ? path : [undefined, undefined, ...path];
  if (first !== undefined && namespace === undefined) throw unknownPath();
  const resource = entryOf(RESOURCES, resourceName);
  if (!resource || RESOURCES[resource].apiVersion !== apiVersion || extra.length > 0) throw unknownPath();
  if (namespace === undefined && name !== undefined) throw unknownPath();
  if (subresource !== undefined && !(subresource === 'status' && 'initialStatus' in RESOURCES[resource])) throw unknownPath();
  return { kind: 'resource', resource, ...(namespace !== undefined && { namespace }), ...(name !== undefined && { name }), status: subresource === 'status' };
}

function sendJson(response: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch (error) {
    throw badRequest(`the body of the request could not be decoded as JSON: ${(error as Error).message}`);
  }
}

async function readObject(request: IncomingMessage): Promise<KubeObject> {
  const body = await readJson(request);
  if (!isRecord(body)) throw badRequest('the body of the request must be a JSON object');
  return body as KubeObject;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asRecord(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

function bearerToken(request: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '');
  return match?.[1];
}

const ANONYMOUS: V1UserInfo = { username: 'system:anonymous', groups: ['system:unauthenticated'] };

export async function startKubeApiServer(options: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  const store = new ObjectStore();
  const watchResponses = new Set<ServerResponse>();
  let reviewToken: TokenReviewer = () => undefined;
  let reviewAccess: AccessReviewer = () => ({ allowed: false });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      if (options.token !== undefined && bearerToken(request) !== options.token) throw failure(401, 'Unauthorized', 'Unauthorized');
      const url = new URL(request.url ?? '/', 'http://localhost');
      const route = parseRoute(url.pathname);
      if (route.kind === 'review') {
        if (request.method !== 'POST') throw methodNotAllowed();
        sendJson(response, 201, await review(route.review, await readObject(request), request));
      } else {
        await serveResource(route, url.searchParams, request, response);
      }
    } catch (error) {
      const status = error instanceof StatusError ? error.status : failure(500, 'InternalError', `Internal error occurred: ${String(error)}`).status;
      if (response.headersSent) response.destroy();
      else sendJson(response, status.code, status);
    }
  }

  async function serveResource(route: ResourceRoute, query: URLSearchParams, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const { resource, namespace, name } = route;
    if (name === undefined || namespace === undefined) {
      if (request.method === 'GET' && ['true', '1'].includes(query.get('watch') ?? '')) {
        watch(resource, namespace, query, response);
      } else if (request.method === 'GET') {
        const matches = selectorMatcher(query.get('labelSelector'), query.get('fieldSelector'));
        const items = store.list(resource, namespace, matches).map(({ apiVersion: _apiVersion, kind: _kind, ...item }) => item);
        const { apiVersion, kind } = RESOURCES[resource];
        sendJson(response, 200, { kind: `${kind}List`, apiVersion, metadata: { resourceVersion: store.revision }, items });
      } else if (request.method === 'POST' && namespace !== undefined) {
        sendJson(response, 201, store.create(resource, namespace, await readObject(request), 'object'));
      } else {
        throw methodNotAllowed();
      }
      return;
    }
    const write: Write = route.status ? 'status' : 'object';
    switch (request.method) {
      case 'GET':
        sendJson(response, 200, store.read(resource, namespace, name));
        break;
      case 'PUT':
        sendJson(response, 200, store.replace(resource, namespace, name, await readObject(request), write));
        break;
      case 'PATCH': {
        const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
        const patch = await readJson(request);
        const patched = applyPatch(contentType, store.read(resource, namespace, name), patch);
        sendJson(response, 200, store.replace(resource, namespace, name, patched, write));
        break;
      }
      case 'DELETE': {
        const deleted = store.delete(resource, namespace, name);
        sendJson(response, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { ...detailsFor(resource, name), uid: deleted.metadata.uid } });
        break;
      }
      default:
        throw methodNotAllowed();
    }
  }

  /** Newline-delimited JSON events on a chunked 200 response; a too-old resourceVersion is an ERROR event, then the end. */
  function watch(resource: ResourceName, namespace: string | undefined, query: URLSearchParams, response: ServerResponse): void {
    const matches = selectorMatcher(query.get('labelSelector'), query.get('fieldSelector'));
    const from = query.get('resourceVersion') || undefined;
    if (from !== undefined && !/^\d+$/.test(from)) throw badRequest(`invalid resource version: ${from}`);
    response.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache' });
    response.flushHeaders();
    const send = (type: EventType | 'ERROR', object: unknown) => response.write(`${JSON.stringify({ type, object })}\n`);
    let stop: () => void;
    try {
      stop = store.watch({ resource, namespace, matches, send }, from === undefined ? undefined : Number(from));
    } catch (error) {
      if (!(error instanceof StatusError)) throw error;
      send('ERROR', error.status);
      response.end();
      return;
    }
    watchResponses.add(response);
    response.on('close', () => {
      stop();
      watchResponses.delete(response);
    });
  }

  /** Answers a TokenReview or (Self)SubjectAccessReview through the test's hooks. */
  async function review(kind: ReviewName, body: KubeObject, request: IncomingMessage): Promise<KubeObject> {
    const spec = asRecord(body.spec);
    const reply = (status: unknown): KubeObject => ({ ...REVIEWS[kind], metadata: {}, spec, status });
    if (kind === 'tokenreviews') {
      const user = await reviewToken(typeof spec.token === 'string' ? spec.token : '');
      return reply(user ? { authenticated: true, user } : { user: {}, error: 'invalid bearer token' });
    }
    let subject = spec as V1SubjectAccessReviewSpec;
    if (kind === 'selfsubjectaccessreviews') {
      const token = bearerToken(request);
      const caller = (token !== undefined && (await reviewToken(token))) || ANONYMOUS;
      subject = { ...subject, user: caller.username, ...(caller.groups && { groups: caller.groups }), ...(caller.uid && { uid: caller.uid }), ...(caller.extra && { extra: caller.extra }) };
    }
    return reply(await reviewAccess(subject));
  }

  const server = createServer((request, response) => void handle(request, response));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    token: options.token,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
    setTokenReview(review) {
      reviewToken = review;
    },
    setAccessReview(review) {
      reviewAccess = review;
    },
    get: (resource, namespace, name) => structuredClone(store.get(resource, namespace, name)),
    list: (resource, namespace) => structuredClone(store.list(resource, namespace)),
    seed(resource, object) {
      const namespace = object.metadata?.namespace || 'default';
      const name = object.metadata?.name ?? '';
      const existing = store.get(resource, namespace, name);
      return structuredClone(existing ? store.replace(resource, namespace, name, object, 'seed') : store.create(resource, namespace, object, 'seed'));
    },
    remove(resource, namespace, name) {
      store.delete(resource, namespace, name);
    },
    dropWatches() {
      const count = watchResponses.size;
      for (const response of watchResponses) response.destroy();
      return count;
    },
    compact: () => store.compact(),
  };
}

/** A KubeConfig for `@kubernetes/client-node` that talks to the server, with its token unless another is given. */
export function kubeConfigFor(server: Pick<KubeApiServer, 'url' | 'token'>, token = server.token): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'in-process', server: server.url, skipTLSVerify: true }],
    users: [{ name: 'test-user', ...(token !== undefined && { token }) }],
    contexts: [{ name: 'in-process', cluster: 'in-process', user: 'test-user', namespace: 'default' }],
    currentContext: 'in-process',
  });
  return kubeConfig;
}
