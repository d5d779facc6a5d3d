import type { FastifyPluginAsync } from 'fastify';
import type { ConfigSections, SectionName } from '../../config/config-sections.js';
import { SECTION_NAMES } from '../../config/config-sections.js';
import { requirePermission } from '../auth/require-permission.js';

export interface ConfigRoutesOptions {
  readonly sections: ConfigSections;
  /** The runtime's namespace: reading needs `get configmaps` there, changing needs `update configmaps`. */
  readonly namespace: string;
}

const params = { type: 'object', required: ['section'], properties: { section: { type: 'string', enum: SECTION_NAMES } } } as const;

/** SPEC 7.4: `GET|PUT|DELETE /api/v1/config/{synchronization|persistence}`. */
export const configRoutes: FastifyPluginAsync<ConfigRoutesOptions> = async (app, options) => {
  const allow = (request: Parameters<typeof requirePermission>[0], verb: 'get' | 'update') =>
    requirePermission(request, { verb, resource: 'configmaps', namespace: options.namespace });

  app.get<{ Params: { section: SectionName } }>('/config/:section', { schema: { params } }, async (request) => {
    await allow(request, 'get');
    return options.sections.get(request.params.section);
  });

  app.put<{ Params: { section: SectionName }; Body: unknown }>('/config/:section', { schema: { params, body: { type: 'object' } } }, async (request) => {
    await allow(request, 'update');
    return options.sections.put(request.params.section, request.body);
  });

  app.delete<{ Params: { section: SectionName } }>('/config/:section', { schema: { params } }, async (request) => {
    await allow(request, 'update');
    await options.sections.delete(request.params.section);
    return {};
  });
};
