export { loadConfig, parseConfig, parseConfigText } from './load.js';
export { ConfigError, type ConfigProblem } from './error.js';
export { ENV_PREFIX, applyEnvOverrides } from './env.js';
export { ConfigSchema, type Config, type ConfigInput, type TableOptions } from './schema.js';
export { tableOptions } from './table-options.js';
