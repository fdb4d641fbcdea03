import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { SuppressionRule } from '../../io/registry/index.js';
import { parseWindow, windowText } from '../domain/suppression.js';
import { ServiceError } from '../plugins/errors.js';
import {
  ErrorResponses,
  Suppression,
  SuppressionAdded,
  SuppressionParams,
  SuppressionRequest,
} from '../schemas/index.js';
import { actorOf } from './models.js';

function toSuppression(r: SuppressionRule): Suppression {
  return {
    id: r.id,
    ...(r.detectorId !== undefined ? { detector: r.detectorId } : {}),
    ...(r.entity !== undefined ? { entity: r.entity } : {}),
    ...(r.metric !== undefined ? { metric: r.metric } : {}),
    kind: r.kind,
    ...windowText(r),
    reason: r.reason,
    actor: r.actor,
    createdAt: new Date(r.createdAt).toISOString(),
  };
}

/** /api/v1/suppressions: windows in which flagged rows are recorded but do not page. */
const suppressions: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/',
    {
      config: { role: 'viewer' },
      schema: { tags: ['incidents'], response: { 200: Type.Array(Suppression), ...ErrorResponses } },
    },
    async () => (await app.registry.suppressions.list()).map(toSuppression),
  );

  app.post(
    '/',
    {
      config: { role: 'editor' },
      schema: {
        tags: ['incidents'],
        description:
          "Adds a suppression rule: flagged rows of the detector, entity and metric (each unset: any) inside the window (daily '02:00'–'03:30', weekly 'Sat 22:00'–'Sun 06:00', or a maintenance period between two date-times; UTC) do not page; the incident they make is marked suppressed.",
        body: SuppressionRequest,
        response: { 201: SuppressionAdded, ...ErrorResponses },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const window = parseWindow(b.kind, b.from, b.to);
      const since = b.applySince === undefined ? undefined : Date.parse(b.applySince);
      if (since !== undefined && since > app.now())
        throw new ServiceError(
          'BAD_REQUEST',
          `body/applySince '${b.applySince}' is in the future: it names the incidents recorded since a past time`,
        );
      if (b.detector !== undefined) await app.runtimes.detector(b.detector);
      const rule: SuppressionRule = {
        id: randomUUID(),
        ...(b.detector !== undefined ? { detectorId: b.detector } : {}),
        ...(b.entity !== undefined ? { entity: b.entity } : {}),
        ...(b.metric !== undefined ? { metric: b.metric } : {}),
        kind: b.kind,
        ...window,
        reason: b.reason,
        actor: actorOf(request.principal),
        createdAt: app.now(),
      };
      const store = async () => void (await app.registry.suppressions.add(rule));
      if (since === undefined) {
        await store();
        return reply.code(201).send(toSuppression(rule));
      }
      // Judged against the stored results first; the rule is stored only once they could be read.
      const { changed, suppressed } = await app.incidents.applyRule(rule, since, store);
      return reply.code(201).send({
        ...toSuppression(rule),
        applied: {
          since: new Date(since).toISOString(),
          incidents: changed.length,
          suppressed: suppressed.length,
        },
      });
    },
  );

  app.delete(
    '/:id',
    {
      config: { role: 'editor' },
      schema: {
        tags: ['incidents'],
        params: SuppressionParams,
        response: { 204: Type.Null(), ...ErrorResponses },
      },
    },
    async (request, reply) => {
      await app.registry.suppressions.delete(request.params.id);
      return reply.code(204).send(null);
    },
  );
};
export default suppressions;
