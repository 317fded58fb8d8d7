/** A config problem: where (dotted field path, or the env variable / file) and what is expected. */
export interface ConfigProblem {
  /** Dotted path such as `kafka.brokers`, or `(root)`. */
  path: string;
  message: string;
}

/**
 * Invalid configuration. `message` has one line per problem:
 * `config error at kafka.brokers: expected a non-empty list of host:port`.
 */
export class ConfigError extends Error {
  constructor(
    readonly problems: ConfigProblem[],
    readonly source?: string,
  ) {
    super(problems.map((p) => `config error at ${p.path}: ${p.message}${source ? ` (in ${source})` : ''}`).join('\n'));
    this.name = 'ConfigError';
  }
}
