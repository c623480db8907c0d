import { LogLevel } from '@nestjs/common';

/** Nest log levels at and above the configured one. */
export function logLevels(level: 'debug' | 'log' | 'warn' | 'error'): LogLevel[] {
  const order: LogLevel[] = ['error', 'warn', 'log', 'debug'];
  return order.slice(0, order.indexOf(level) + 1);
}
