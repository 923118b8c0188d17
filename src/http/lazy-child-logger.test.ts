import { Writable } from 'node:stream';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { lazyChildLogger } from './lazy-child-logger.js';

function logger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const { time: _time, ...line } = JSON.parse(chunk.toString('utf8')) as Record<string, unknown>;
      lines.push(line);
      done();
    },
  });
  return { parent: pino({ level: 'info' }, stream) as FastifyBaseLogger, lines };
}

const lazy = (parent: FastifyBaseLogger, bindings: Record<string, unknown>) =>
  lazyChildLogger.call({} as FastifyInstance, parent, bindings, {}, {} as never);

describe('lazyChildLogger', () => {
  it('writes the same lines as an eager child', () => {
    const eager = logger();
    const late = logger();
    eager.parent.child({ reqId: 'req_1' }).warn({ a: 1 }, 'hello %s', 'there');
    lazy(late.parent, { reqId: 'req_1' }).warn({ a: 1 }, 'hello %s', 'there');
    eager.parent.child({ reqId: 'req_1' }).child({ b: 2 }).error('nested');
    lazy(late.parent, { reqId: 'req_1' }).child({ b: 2 }).error('nested');
    expect(late.lines).toEqual(eager.lines);
    expect(late.lines[0]).toMatchObject({ reqId: 'req_1', a: 1, msg: 'hello there', level: 40 });
  });

  it('makes no child until something is logged, and one at most', () => {
    const { parent, lines } = logger();
    const child = vi.spyOn(parent, 'child');
    const log = lazy(parent, { reqId: 'req_2' });
    expect(log.level).toBe('info');
    log.debug('below the level');
    log.info('first');
    log.info('second');
    expect(child).toHaveBeenCalledTimes(1);
    expect(lines.map((l) => l.msg)).toEqual(['first', 'second']);
  });
});
