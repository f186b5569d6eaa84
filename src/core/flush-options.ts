// Flush options: what exp.flush() accepts, validated.

import { LablogError, describeValue } from '../model/errors.js';
import { assertOptionsObject } from '../model/validation.js';

export interface FlushOptions {
  /**
   * Also wait until what the flush wrote (and everything written to the store before it) is on stable
   * storage, so that a power loss cannot take it back: one fsync, shared with other flushes and closes
   * waiting at the time. Default false: the flush resolves once the data is committed (safe against a
   * crash of the process, not of the machine).
   */
  durable?: boolean;
}

const FLUSH_OPTIONS = ['durable'] as const;

/** The flush options as given, checked: INVALID_OPTION names the option and the value when one is wrong. */
export function resolveFlushOptions(options: FlushOptions | undefined): { durable: boolean } {
  assertOptionsObject('flush', options);
  if (options === undefined) return { durable: false };
  for (const [key, value] of Object.entries(options)) {
    if (!(FLUSH_OPTIONS as readonly string[]).includes(key)) {
      throw new LablogError(
        'INVALID_OPTION',
        `flush: unknown option '${key}' (given ${describeValue(value)}); known options: ${FLUSH_OPTIONS.join(', ')}`,
        { option: key, actual: describeValue(value) },
      );
    }
  }
  const durable = options.durable ?? false;
  if (typeof durable !== 'boolean') {
    throw new LablogError('INVALID_OPTION', `flush: durable must be true or false, got ${describeValue(durable)}`, {
      option: 'durable',
      actual: describeValue(durable),
    });
  }
  return { durable };
}
