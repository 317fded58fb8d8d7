import { ConfigError } from '../config/index.js';
import { InvalidLakeUri } from '../storage/open-store.js';
import { UnknownTable } from '../pipeline/lake.js';
import { QueryError } from '../table/reader.js';
import { PredicateError } from '../query/where.js';
import { ConsumerError } from '../query/consumers.js';
import { OutputFormatError } from '../query/output/index.js';
import { RouteError } from '../pipeline/router.js';

/** A mistake in how the command was called: exit code 2 and a one-line hint. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const USAGE_ERRORS = [UsageError, ConfigError, InvalidLakeUri, UnknownTable, QueryError, PredicateError, ConsumerError, OutputFormatError, RouteError];

export function isUsageError(e: unknown): boolean {
  return USAGE_ERRORS.some((cls) => e instanceof cls);
}

/** One line for stderr: the message, without a stack. */
export function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n').map((s) => s.trim()).filter((s) => s !== '').join('; ');
}
