/**
 * Feedback endpoints, under the admin API (bearer ADMIN_TOKEN) until the helpdesk apps call them
 * with their own authentication: record a verdict, read per-intent accuracy, export corrections.
 */
import express, { type Router } from 'express';
import { AppError } from '../errors.ts';
import { asyncRoute } from '../http/middleware.ts';
import type { TenantRegistry } from '../tenants/registry.ts';
import type { ModelRegistry } from '../triage/models.ts';
import { createFeedbackService, type FeedbackService, feedbackSchema } from './feedback.ts';

export function feedbackRouter(feedback: FeedbackService, tenants: TenantRegistry, models?: ModelRegistry): Router {
  const router = express.Router({ mergeParams: true });

  async function tenantFrom(request: express.Request): Promise<string> {
    const tenantId = String(request.params.tenantId);
    const tenant = await tenants.get(tenantId).catch(() => undefined);
    if (tenant === undefined && tenantId !== 'playground')
      throw new AppError('TENANT_UNKNOWN', `No tenant "${tenantId}"`);
    return tenantId;
  }

  router.post(
    '/tenants/:tenantId/feedback',
    asyncRoute(async (request, response) => {
      const tenantId = await tenantFrom(request);
      const parsed = feedbackSchema.safeParse(request.body);
      if (!parsed.success) {
        throw new AppError('VALIDATION_FAILED', 'Invalid feedback', {
          details: parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
        });
      }
      const result = await feedback.record(tenantId, parsed.data);
      response.status(201).json({
        recorded: true,
        eventId: result.correction.eventId,
        regressionCase: result.regressionCase?.id ?? null,
      });
    }),
  );
  router.get(
    '/tenants/:tenantId/feedback/accuracy',
    asyncRoute(async (request, response) => {
      response.json({ intents: await feedback.intentAccuracy(await tenantFrom(request)) });
    }),
  );
  router.get(
    '/tenants/:tenantId/feedback/flagged-articles',
    asyncRoute(async (request, response) => {
      response.json({ articles: await feedback.flaggedArticles(await tenantFrom(request)) });
    }),
  );
  router.get(
    '/tenants/:tenantId/feedback/fine-tuning.jsonl',
    asyncRoute(async (request, response) => {
      const lines = await feedback.fineTuningLines(await tenantFrom(request));
      response.type('application/x-ndjson').send(lines.length === 0 ? '' : `${lines.join('\n')}\n`);
    }),
  );
  // Retrains the tenant's intent model on the default examples plus its corrections.
  router.post(
    '/tenants/:tenantId/model/retrain',
    asyncRoute(async (request, response) => {
      if (models === undefined) throw new AppError('NOT_FOUND', 'Model training is not available here');
      const tenantId = await tenantFrom(request);
      response.status(201).json(await models.train(tenantId));
    }),
  );
  return router;
}

export { createFeedbackService };
