import * as v from 'valibot';
import { declareRoute } from '../../shared/http/routes';
import { isoTime, SECRET_ERRORS, text } from '../../shared/http/schemas';

/** Declarations of the refresh function's routes (docs/api.md, "Internal routes"). */

const count = (description: string) =>
  v.pipe(v.number(), v.integer(), v.minValue(0), v.description(description));

export const refreshPass = declareRoute({
  method: 'POST',
  path: '/v1/refresh',
  tag: 'operations',
  summary: 'Run one refresh pass now',
  description:
    'Credentials refreshed ahead of expiry, then the delivery outbox drained, then stored ' +
    'messages past retention purged.',
  responses: {
    200: {
      description: 'what the pass did',
      schema: v.object({
        checked: count('credentials looked at'),
        refreshed: count('credentials refreshed'),
        failed: v.array(v.object({ app: v.string(), credential: v.string(), error: v.string() })),
        outbox: v.object({ delivered: count(''), retrying: count(''), dead: count('') }),
        purged: v.object({
          messages: count(''),
          deliveries: count(''),
          signatures: count(''),
          authorizationCodes: count(''),
          loginFailures: count(''),
        }),
      }),
    },
  },
  errors: ['UNAVAILABLE', 'UPSTREAM_WECHAT', 'UPSTREAM_TIMEOUT', ...SECRET_ERRORS],
});

export const outboxList = declareRoute({
  method: 'GET',
  path: '/v1/outbox',
  tag: 'operations',
  summary: 'Deliveries by status, newest 100',
  description: 'No payloads; the target without user info or query.',
  query: v.object({
    status: v.optional(
      v.pipe(
        v.picklist(['pending', 'dead'], 'status must be pending or dead'),
        v.description('default dead'),
      ),
      'dead',
    ),
    app: v.optional(text('only this app')),
  }),
  responses: {
    200: {
      description: 'the deliveries',
      schema: v.object({
        deliveries: v.array(
          v.object({
            id: v.number(),
            app: v.string(),
            source: v.picklist(['message', 'pay']),
            target: v.string(),
            status: v.string(),
            attempts: v.number(),
            maxAttempts: v.number(),
            lastError: v.nullable(v.string()),
            nextAttemptAt: isoTime('next try'),
          }),
        ),
      }),
    },
  },
  errors: ['BAD_REQUEST', 'UNAVAILABLE'],
});

export const REFRESH_ROUTES = [refreshPass, outboxList];
