import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProblemError, problemBody, problemFor } from './problem';

/**
 * Renders every error as RFC 9457 problem details (application/problem+json). Never leaks SQL,
 * stacks or which private rule refused a request: unknown errors become a bare 500.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetails');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const reply = ctx.getResponse<FastifyReply>();
    const request = ctx.getRequest<FastifyRequest>();
    const problem = toProblem(exception);
    if (problem.status >= 500) {
      this.logger.error(
        { err: exception, reqId: request.id },
        exception instanceof Error ? exception.message : 'unexpected error',
      );
    }
    sendProblem(reply, request, problem);
  }
}

export function toProblem(exception: unknown): ProblemError {
  if (exception instanceof ProblemError) return exception;
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    const message =
      typeof response === 'object' && response && 'message' in response
        ? response.message
        : exception.message;
    const detail = Array.isArray(message) ? message.join('; ') : String(message);
    if (status === 404 && /^Cannot (GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)/.test(detail)) {
      return problemFor(404, 'No route matches this method and path.');
    }
    if (status === 429) {
      return problemFor(
        429,
        'Too many requests; retry after the number of seconds in Retry-After.',
      );
    }
    return problemFor(status, status >= 500 ? undefined : sentence(detail));
  }
  // Errors raised by Fastify itself (content type, body size, JSON syntax) carry a statusCode.
  if (isFastifyError(exception)) {
    const status = exception.statusCode;
    if (status === 413) return problemFor(413, 'The request body is larger than the limit.');
    if (status === 415) return problemFor(415, 'Send the request body as application/json.');
    if (exception.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || exception.name === 'SyntaxError') {
      return problemFor(400, 'The request body is not valid JSON.');
    }
    if (exception.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      return problemFor(400, 'The request body is empty; send a JSON object.');
    }
    if (status >= 400 && status < 500) return problemFor(status, sentence(exception.message));
  }
  return problemFor(500, 'An unexpected error occurred.');
}

export function sendProblem(
  reply: FastifyReply,
  request: FastifyRequest,
  problem: ProblemError,
): void {
  const body = problemBody(problem, (request.url ?? '').split('?')[0]);
  if (problem.headers) void reply.headers(problem.headers);
  void reply.status(problem.status).type('application/problem+json').send(body);
}

function isFastifyError(e: unknown): e is Error & { statusCode: number; code?: string } {
  return e instanceof Error && typeof (e as { statusCode?: unknown }).statusCode === 'number';
}

function sentence(text: string): string {
  const t = text.trim();
  if (!t) return 'The request was refused.';
  return /[.!?]$/.test(t) ? t : t + '.';
}
