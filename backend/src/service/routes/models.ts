import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { RegistryError, type JobRecord, type ModelVersionRecord } from '../../io/registry/index.js';
import { parseTime } from '../ranges.js';
import {
  DetectorParams,
  Job,
  JobParams,
  ModelParams,
  ModelVersion,
  StageChange,
  TrainRequest,
  ErrorResponses,
} from '../schemas/index.js';

/** Who did it, for the stage history and the jobs: the token's name. */
export const actorOf = (principal: { name: string } | undefined): string => principal?.name ?? 'unknown';

const iso = (ms: number | undefined): string | undefined =>
  ms === undefined ? undefined : new Date(ms).toISOString();

export function toJob(j: JobRecord): Job {
  return {
    id: j.id,
    detectorId: j.detectorId,
    kind: j.kind,
    state: j.state,
    phase: j.phase,
    progress: j.progress,
    createdAt: iso(j.createdAt)!,
    ...(j.startedAt !== undefined ? { startedAt: iso(j.startedAt)! } : {}),
    ...(j.finishedAt !== undefined ? { finishedAt: iso(j.finishedAt)! } : {}),
    ...(j.error !== undefined ? { error: j.error } : {}),
    ...(j.result !== undefined ? { result: j.result } : {}),
  };
}

export function toVersion(v: ModelVersionRecord): ModelVersion {
  return {
    detectorId: v.detectorId,
    version: v.version,
    entity: v.entity,
    entityVersion: v.entityVersion,
    stage: v.stage,
    trainedAt: iso(v.trainedAt)!,
    metrics: v.metrics,
    params: v.params,
  };
}

/**
 * Training and the model registry under /api/v1/detectors/:id: start a training job (202, poll
 * /api/v1/jobs/:jobId), list versions, change a version's stage, roll back. Editors train;
 * admins move stages.
 */
export const detectorModels: FastifyPluginAsyncTypebox = async (app) => {
  const detectorExists = async (id: string): Promise<void> => {
    if (!(await app.registry.getDetector(id))) throw new RegistryError('NOT_FOUND', `no detector '${id}'`);
  };

  app.post(
    '/:id/train',
    {
      config: { role: 'editor' },
      schema: {
        tags: ['models'],
        description:
          'Starts a training job and answers at once (202): each entity is bootstrapped from its last trainingWindowHours of history (a backtest, written as stage backtest) and its state becomes a new version. Grafana’s proxy gives up after 30 s, training may take longer.',
        params: DetectorParams,
        body: Type.Optional(TrainRequest),
        response: { 202: Job, ...ErrorResponses },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      await detectorExists(id);
      const body = request.body ?? {};
      const to = body.to ? parseTime(body.to, 'body/to') : undefined;
      const job = await app.jobs.submit(id, 'training', (ctx) =>
        app.runtimes.bootstrap(
          id,
          {
            ...(to !== undefined ? { to } : {}),
            promote: body.promote === true,
            actor: actorOf(request.principal),
          },
          ctx,
        ),
      );
      return reply.code(202).header('Location', `/api/v1/jobs/${job.id}`).send(toJob(job));
    },
  );

  app.get(
    '/:id/jobs',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['models'],
        params: DetectorParams,
        response: { 200: Type.Array(Job), ...ErrorResponses },
      },
    },
    async (request) => {
      await detectorExists(request.params.id);
      return (await app.registry.listJobs(request.params.id)).map(toJob);
    },
  );

  app.get(
    '/:id/models',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['models'],
        params: DetectorParams,
        response: { 200: Type.Array(ModelVersion), ...ErrorResponses },
      },
    },
    async (request) => {
      await detectorExists(request.params.id);
      return (await app.registry.listModelVersions(request.params.id)).map(toVersion);
    },
  );

  app.get(
    '/:id/models/:version',
    {
      config: { role: 'viewer' },
      schema: { tags: ['models'], params: ModelParams, response: { 200: ModelVersion, ...ErrorResponses } },
    },
    async (request) => {
      // The answer leaves the bundle out: do not read megabytes to drop them.
      const v = await app.registry.models.get(request.params.id, request.params.version, { bundle: false });
      if (!v)
        throw new RegistryError(
          'NOT_FOUND',
          `detector '${request.params.id}' has no version ${request.params.version}`,
        );
      return toVersion(v);
    },
  );

  app.get(
    '/:id/history',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['models'],
        params: DetectorParams,
        response: { 200: Type.Array(StageChange), ...ErrorResponses },
      },
    },
    async (request) => {
      await detectorExists(request.params.id);
      return (await app.registry.stageHistory(request.params.id)).map((h) => ({
        version: h.version,
        from: h.from,
        to: h.to,
        actor: h.actor,
        reason: h.reason,
        at: iso(h.at)!,
      }));
    },
  );
};

/** /api/v1/jobs/:jobId: progress, result or error of a job; cancel. */
export const jobs: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/:jobId',
    {
      config: { role: 'viewer' },
      schema: { tags: ['models'], params: JobParams, response: { 200: Job, ...ErrorResponses } },
    },
    async (request) => {
      const job = await app.registry.getJob(request.params.jobId);
      if (!job) throw new RegistryError('NOT_FOUND', `no job '${request.params.jobId}'`);
      return toJob(job);
    },
  );

  app.post(
    '/:jobId/cancel',
    {
      config: { role: 'editor' },
      schema: { tags: ['models'], params: JobParams, response: { 200: Job, ...ErrorResponses } },
    },
    async (request) => {
      const job = await app.jobs.cancel(request.params.jobId);
      if (!job) throw new RegistryError('NOT_FOUND', `no job '${request.params.jobId}'`);
      return toJob(job);
    },
  );
};
