import type {} from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { z } from 'zod';
import type { DashboardFailure, Outcome } from '../../../domain/dashboard-errors.js';
import type { Session } from '../../../ports/users.js';
import { sendDashboardFailure } from './errors.js';
import { errorBody } from './schemas.js';
import { requireSession } from './session.js';

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface RouteContext<B, P> {
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  readonly body: B;
  readonly params: P;
}

export interface SignedInContext<B, P> extends RouteContext<B, P> {
  readonly session: Session;
}

interface BaseSpec<B extends z.ZodType, P extends z.ZodType> {
  readonly method: Method;
  readonly url: string;
  readonly summary: string;
  readonly tag: string;
  readonly body?: B;
  readonly params?: P;
  /** Status → body; null for 204. Errors are documented for every route. */
  readonly responses: Readonly<Record<number, z.ZodType | null>>;
  /** @fastify/rate-limit's per-route limit, per client address. */
  readonly rateLimit?: { readonly max: number; readonly timeWindow: number };
}

interface PublicSpec<B extends z.ZodType, P extends z.ZodType> extends BaseSpec<B, P> {
  readonly signedIn: false;
  handler(context: RouteContext<z.output<B>, z.output<P>>): Promise<unknown>;
}

interface SignedInSpec<B extends z.ZodType, P extends z.ZodType> extends BaseSpec<B, P> {
  readonly signedIn: true;
  handler(context: SignedInContext<z.output<B>, z.output<P>>): Promise<unknown>;
}

export type RouteSpec<B extends z.ZodType, P extends z.ZodType> = PublicSpec<B, P> | SignedInSpec<B, P>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output') {
  return z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' });
}

function fieldOf(issue: z.core.$ZodIssue | undefined): string | undefined {
  return issue && issue.path.length > 0 ? issue.path.map(String).join('.') : undefined;
}

function invalid(error: z.ZodError, part: string): DashboardFailure {
  const issue = error.issues[0];
  const field = fieldOf(issue);
  return {
    code: 'invalid_request',
    message: `${field ?? part}: ${issue?.message ?? 'invalid'}`,
    ...(field === undefined ? {} : { field }),
  };
}

/** Sends a service's outcome: a failure in the dashboard's envelope, a value through `render`. */
export function answer<T>(
  reply: FastifyReply,
  outcome: Outcome<T>,
  render: (value: T) => unknown,
  status = 200,
) {
  if (!outcome.ok) return sendDashboardFailure(reply, outcome.failure);
  const rendered = render(outcome.value);
  return rendered === undefined ? reply.code(204).send() : reply.code(status).send(rendered);
}

/**
 * A dashboard route: its JSON schemas for the OpenAPI document, zod validation with the failing
 * field named, and for signed-in routes the session check then (for every method but GET) the
 * CSRF token bound to the session.
 */
export function addRoute<B extends z.ZodType, P extends z.ZodType>(
  app: FastifyInstance,
  spec: RouteSpec<B, P>,
  csrf: onRequestHookHandler,
): void {
  const response: Record<string, unknown> = { '4XX': jsonSchema(errorBody, 'output') };
  for (const [status, schema] of Object.entries(spec.responses))
    response[status] =
      schema === null ? { description: 'No content', type: 'null' } : jsonSchema(schema, 'output');
  const onRequest: onRequestHookHandler[] = [];
  if (spec.signedIn) {
    onRequest.push(requireSession);
    if (spec.method !== 'GET') onRequest.push(csrf);
  }
  app.route({
    method: spec.method,
    url: spec.url,
    schema: {
      summary: spec.summary,
      tags: [spec.tag],
      ...(spec.body ? { body: jsonSchema(spec.body, 'input') } : {}),
      ...(spec.params ? { params: jsonSchema(spec.params, 'input') } : {}),
      response,
    },
    ...(spec.rateLimit ? { config: { rateLimit: spec.rateLimit } } : { config: { rateLimit: false } }),
    onRequest,
    handler: async (request, reply) => {
      const params = spec.params
        ? spec.params.safeParse(request.params)
        : { success: true as const, data: {} };
      if (!params.success) return sendDashboardFailure(reply, { code: 'not_found' });
      const body = spec.body
        ? spec.body.safeParse(request.body ?? {})
        : { success: true as const, data: undefined };
      if (!body.success) return sendDashboardFailure(reply, invalid(body.error, 'body'));
      const context = { request, reply, body: body.data as z.output<B>, params: params.data as z.output<P> };
      if (spec.signedIn) {
        const session = request.dashboardSession;
        if (!session) return sendDashboardFailure(reply, { code: 'not_signed_in' });
        return spec.handler({ ...context, session });
      }
      return spec.handler(context);
    },
  });
}
