import * as pulumi from '@pulumi/pulumi';
import type { JavaScriptValue } from 'google-protobuf/google/protobuf/struct_pb.js';
import { UNKNOWN } from './resource-handler.js';

const { specialSigKey: SIGNATURE_KEY, specialSecretSig: SECRET_SIGNATURE, unknownValue: UNKNOWN_VALUE } = pulumi.runtime;
/**
 * Every unknown sentinel the engine may send: the SDK's, and the per-type ones of the engine (pulumi
 * `plugin/rpc.go`), which the Node SDK does not export.
 */
const UNKNOWN_SENTINELS = new Set([
  UNKNOWN_VALUE,
  '1c4a061d-8072-4f0a-a4cb-0ff528b18fe7',
  '3eeb2bf0-c639-47a8-9e75-3b44932eb421',
  '6a19a0b0-7e62-4c92-b797-7f8e31da9cc2',
  'dd056dcd-154b-4c76-9bd3-c8f88648b5ff',
  '030794c1-ac77-496b-92df-f27374a8bd58',
  'e48ece36-62e2-4504-bad9-02848725956a',
]);

/** A property bag with secrets unwrapped, and the names of the top-level properties that were secret. */
export interface Decoded {
  readonly values: Record<string, unknown>;
  readonly secrets: ReadonlySet<string>;
}

/** Unwraps secrets (remembering which properties they were) and turns unknown sentinels into UNKNOWN. */
export function decodeProperties(bag: Record<string, JavaScriptValue> | undefined): Decoded {
  const secrets = new Set<string>();
  const values: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(bag ?? {})) {
    values[name] = decodeValue(value, () => secrets.add(name));
  }
  return { values, secrets };
}

function decodeValue(value: JavaScriptValue, foundSecret: () => void): unknown {
  if (typeof value === 'string' && UNKNOWN_SENTINELS.has(value)) return UNKNOWN;
  if (Array.isArray(value)) return value.map((item) => decodeValue(item, foundSecret));
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, JavaScriptValue>;
    if (object[SIGNATURE_KEY] === SECRET_SIGNATURE) {
      foundSecret();
      return decodeValue(object.value ?? null, foundSecret);
    }
    return Object.fromEntries(Object.entries(object).map(([key, item]) => [key, decodeValue(item, foundSecret)]));
  }
  return value;
}

/** The wire form of a property bag: secrets wrapped again, UNKNOWN as the engine's sentinel, undefined dropped. */
export function encodeProperties(values: Readonly<Record<string, unknown>>, secrets: ReadonlySet<string> = new Set()): Record<string, JavaScriptValue> {
  const bag: Record<string, JavaScriptValue> = {};
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const plain = value === UNKNOWN ? UNKNOWN_VALUE : (value as JavaScriptValue);
    bag[name] = secrets.has(name) ? { [SIGNATURE_KEY]: SECRET_SIGNATURE, value: plain } : plain;
  }
  return bag;
}
