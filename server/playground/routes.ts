/**
 * The playground: paste a ticket (and optional customer context), see what the engine decides.
 * It runs the real engine for a "playground" tenant with default settings and writes nothing back.
 */
import express, { type Router } from 'express';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import { asyncRoute } from '../http/middleware.ts';
import { defaultSettings, tenantSettingsSchema } from '../tenants/settings.ts';
import type { TriageEngine } from '../triage/record.ts';
import { PLAYGROUND_HTML } from './page.ts';

const customerSchema = z
  .object({
    name: z.string().max(200).optional(),
    plan: z.string().max(100).optional(),
    accountAgeDays: z.number().int().min(0).optional(),
    ticketsThisMonth: z.number().int().min(0).optional(),
    priorTicketsSameIssue: z.number().int().min(0).optional(),
    lastInteractionSummary: z.string().max(2_000).optional(),
    tone: z.enum(['formal', 'casual']).optional(),
    interactions: z
      .array(
        z.object({ author: z.enum(['customer', 'agent']), text: z.string().max(10_000), at: z.string().optional() }),
      )
      .max(50)
      .optional(),
  })
  .strict();

export const triageRequestSchema = z
  .object({
    subject: z.string().max(500).optional(),
    body: z.string().trim().min(1, 'must not be empty').max(20_000),
    customer: customerSchema.optional(),
    settings: tenantSettingsSchema.partial().optional(),
  })
  .strict();

export function playgroundPage(): Router {
  const router = express.Router();
  router.get('/', (_request, response) => {
    response.setHeader(
      'content-security-policy',
      "default-src 'self'; img-src 'self' data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'",
    );
    response.type('html').send(PLAYGROUND_HTML);
  });
  return router;
}

export function triageApi(engine: TriageEngine): Router {
  const router = express.Router();
  let counter = 0;
  router.post(
    '/triage',
    asyncRoute(async (request, response) => {
      const parsed = triageRequestSchema.safeParse(request.body);
      if (!parsed.success) {
        throw new AppError('VALIDATION_FAILED', 'Invalid triage request', {
          details: parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
        });
      }
      counter += 1;
      const record = await engine.triage({
        tenantId: 'playground',
        ticketId: `playground-${counter}`,
        eventId: `playground-${counter}`,
        ...(parsed.data.subject ? { subject: parsed.data.subject } : {}),
        body: parsed.data.body,
        ...(parsed.data.customer ? { customer: parsed.data.customer } : {}),
        settings: { ...defaultSettings(), ...(parsed.data.settings ?? {}) },
      });
      response.json(record);
    }),
  );
  return router;
}
