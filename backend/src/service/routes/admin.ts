import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  DetectorParams,
  ErrorResponses,
  ModelParams,
  ModelVersion,
  RollbackRequest,
  StageRequest,
} from '../schemas/index.js';
import { actorOf, toVersion } from './models.js';
import { forgetDetector } from '../plugins/read-cache.js';

/**
 * /api/v1/admin/detectors: what only admins may do (move versions between stages, roll back,
 * delete). They live under a prefix of their own so that Grafana's data source proxy, whose
 * routes match by path prefix, can ask for the Admin role on exactly these.
 */
const admin: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/:id/models/:version/stage',
    {
      config: { role: 'admin' },
      schema: {
        tags: ['models'],
        params: ModelParams,
        body: StageRequest,
        response: { 200: ModelVersion, ...ErrorResponses },
      },
    },
    async (request) => {
      const v = await app.registry.setStage(
        request.params.id,
        request.params.version,
        request.body.stage,
        actorOf(request.principal),
        request.body.reason,
        app.now(),
      );
      // Promotion swaps the runtimes: the stage's runtime now descends from this version.
      await app.runtimes.follow(request.params.id);
      return toVersion(v);
    },
  );

  app.post(
    '/:id/rollback',
    {
      config: { role: 'admin' },
      schema: {
        tags: ['models'],
        params: DetectorParams,
        body: RollbackRequest,
        response: { 200: ModelVersion, ...ErrorResponses },
      },
    },
    async (request) => {
      const v = await app.registry.rollback(
        request.params.id,
        actorOf(request.principal),
        request.body.reason,
        app.now(),
        request.body.entity ?? '',
      );
      // The production runtime restarts from the earlier version's checkpoint.
      await app.runtimes.follow(request.params.id);
      return toVersion(v);
    },
  );

  app.delete(
    '/:id',
    {
      config: { role: 'admin' },
      schema: {
        tags: ['detectors'],
        params: DetectorParams,
        response: { 204: Type.Null(), ...ErrorResponses },
      },
    },
    async (request, reply) => {
      await app.registry.deleteDetector(request.params.id);
      forgetDetector(app, request.params.id);
      return reply.code(204).send(null);
    },
  );
};

export default admin;
