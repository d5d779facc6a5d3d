import { Ajv } from 'ajv';
import type { Options } from 'ajv';
import formats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

function makeAjv(options: Options): Ajv {
  const ajv = new Ajv({ allErrors: true, removeAdditional: false, useDefaults: true, strict: false, ...options });
  formats.default(ajv);
  return ajv;
}

/**
 * The schema compiler of every route. Bodies are validated without type coercion, so `"limit": "5"` is a
 * 400 like in Argo's JSON decoding; path and query strings are coerced (`?type=1`). Unknown properties are
 * never removed silently: a schema with `additionalProperties: false` rejects them by name.
 */
export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const strictAjv = makeAjv({ coerceTypes: false });
  const coercingAjv = makeAjv({ coerceTypes: 'array' });
  return ({ schema, httpPart }) => (httpPart === 'body' ? strictAjv : coercingAjv).compile(schema as object);
}
