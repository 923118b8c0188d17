import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { InMemoryMetrics } from '../ports/metrics.js';
import type { UnavailableReason } from '../ports/unavailable.js';
import { UnavailableAnswers } from './unavailable-answer.js';

function setUp() {
  let now = 0;
  const lines: { reason: unknown; message: string }[] = [];
  const request = {
    log: {
      warn: (details: { reason: unknown }, message: string) =>
        lines.push({ reason: details.reason, message }),
    },
  } as unknown as FastifyRequest;
  const metrics = new InMemoryMetrics();
  const answers = new UnavailableAnswers(
    (error) => (error instanceof Error ? (error.message as UnavailableReason) : undefined),
    metrics,
    () => now,
  );
  return {
    answers,
    request,
    lines,
    metrics,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('answering a database that cannot be used', () => {
  it('counts every refusal and logs an outage once, and again after a minute without refusals', () => {
    const { answers, request, lines, metrics, advance } = setUp();
    for (let i = 0; i < 100; i++) {
      expect(answers.refusal(new Error('database_unreachable'), request)?.code).toBe('service_unavailable');
      advance(1_000);
    }
    expect(lines).toHaveLength(1);
    advance(60_000);
    answers.refusal(new Error('database_unreachable'), request);
    expect(lines.map((line) => line.reason)).toEqual(['database_unreachable', 'database_unreachable']);
    expect(metrics.unavailableRefusals).toHaveLength(101);
  });

  it('logs each reason once, and leaves other errors alone', () => {
    const { answers, request, lines, metrics } = setUp();
    answers.refusal(new Error('database_unreachable'), request);
    answers.refusal(new Error('instance_fenced'), request);
    answers.refusal(new Error('instance_fenced'), request);
    expect(answers.refusal('not an error', request)).toBeUndefined();
    expect(lines.map((line) => line.reason)).toEqual(['database_unreachable', 'instance_fenced']);
    expect(metrics.unavailableRefusals).toEqual([
      'database_unreachable',
      'instance_fenced',
      'instance_fenced',
    ]);
  });
});
