import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { TELEGRAF_PRESETS } from '../../io/influx/index.js';

/** GET /api/v1/presets: Telegraf measurement presets for the detector editor. */
const presets: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['detectors'],
        response: {
          200: Type.Array(
            Type.Object({
              name: Type.String(),
              measurement: Type.String(),
              entityTag: Type.Optional(Type.String()),
              fields: Type.Array(Type.String()),
            }),
          ),
        },
      },
    },
    async () =>
      Object.entries(TELEGRAF_PRESETS).map(([name, p]) => ({
        name,
        measurement: p.measurement,
        ...(p.entityTag ? { entityTag: p.entityTag } : {}),
        fields: p.fields.map((f) => f.field),
      })),
  );
};
export default presets;
