import type { Metrics } from '../ports/metrics.js';
import type { RedisConnection } from './connect.js';

export interface HealthLog {
  info(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
}

/**
 * Says once per transition, in the log and in metrics, whether Redis answers. Wired once per
 * process, whatever uses the connection, so that an outage is one log line and not one per user.
 */
export function reportRedisHealth(connection: RedisConnection, log: HealthLog, metrics: Metrics): void {
  connection.on('down', () => {
    metrics.dependencyUp('redis', false);
    log.warn(
      { dependency: 'redis' },
      'Redis is unreachable: serving on, with key and account caches kept at most 1 second and rate limits counted per instance, until it answers again',
    );
  });
  connection.on('up', () => {
    metrics.dependencyUp('redis', true);
    log.info({ dependency: 'redis' }, 'Redis answers: changes and rate limits are shared again');
  });
}
