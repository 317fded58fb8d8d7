/**
 * Loading the daemon config: YAML file → `${VAR}` interpolation → `CDC_LAKE_*`
 * overrides → AWS environment defaults → zod validation with defaults.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigProblem } from './error.js';
import { applyEnvOverrides } from './env.js';
import { ConfigSchema, type Config } from './schema.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

/**
 * Reads and validates the config. `path` undefined means "environment only".
 * Throws `ConfigError` listing every problem, one line each.
 */
export function loadConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): Config {
  let fileValue: Obj = {};
  if (path !== undefined) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new ConfigError([{ path: '(file)', message: `cannot read ${path}: ${(e as Error).message}; pass an existing YAML file to --config` }]);
    }
    fileValue = parseConfigText(text, path);
  }
  return parseConfig(fileValue, env, path);
}

/** Parses YAML text into a plain object; YAML syntax errors become `ConfigError` with line numbers. */
export function parseConfigText(text: string, source = 'config'): Obj {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => ({ path: '(yaml)', message: `${e.message.split('\n')[0]}; fix the YAML syntax` })),
      source,
    );
  }
  const v = doc.toJS() as unknown;
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw new ConfigError([{ path: '(root)', message: 'expected a YAML mapping with keys such as lake, kafka, tables' }], source);
  }
  return v as Obj;
}

/** Validates an already-parsed config object (the file's content) with env overrides and defaults. */
export function parseConfig(value: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env, source?: string): Config {
  const interpolated = interpolate(value as Obj, env, [], source) as Obj;
  const merged = applyEnvOverrides(interpolated, env, ConfigSchema as unknown as z.ZodType);
  applyAwsDefaults(merged, env);
  const r = ConfigSchema.safeParse(merged);
  if (!r.success) throw new ConfigError(r.error.issues.map(toProblem), source);
  return r.data;
}

function toProblem(issue: z.core.$ZodIssue): ConfigProblem {
  const path = issue.path.map(String);
  let message = issue.message.replace(/^Invalid input: /, '');
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys;
    path.push(...(keys.length === 1 ? [keys[0] as string] : []));
    message = `unknown key${keys.length > 1 ? `s ${keys.join(', ')}` : ''}; remove it or check its spelling (see docs/configuration.md)`;
  } else if (issue.code === 'invalid_type' && / received undefined$/.test(message)) {
    message = `required, ${message.replace(/, received undefined$/, '')}`;
  } else if (issue.code === 'invalid_type' && issue.expected === 'int') {
    message = 'expected an integer';
  } else if (issue.code === 'invalid_key') {
    message = `invalid key: ${issue.issues.map((i) => i.message).join('; ')}`;
  } else if (issue.code === 'invalid_value' && 'values' in issue) {
    message = `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return { path: path.join('.') || '(root)', message };
}

/** `${NAME}` in string values is replaced by the env variable, so secrets stay out of the file. */
function interpolate(v: Json, env: NodeJS.ProcessEnv, path: string[], source: string | undefined): Json {
  if (typeof v === 'string') {
    return v.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
      const x = env[name];
      if (x === undefined) {
        throw new ConfigError([{ path: path.join('.'), message: `environment variable ${name} is not set; export it or write the value` }], source);
      }
      return x;
    });
  }
  if (Array.isArray(v)) return v.map((x, i) => interpolate(x, env, [...path, String(i)], source));
  if (v !== null && typeof v === 'object') {
    const o: Obj = {};
    for (const [k, x] of Object.entries(v)) o[k] = interpolate(x, env, [...path, k], source);
    return o;
  }
  return v;
}

/** S3 endpoint and region default to the standard AWS environment variables. */
function applyAwsDefaults(cfg: Obj, env: NodeJS.ProcessEnv): void {
  const lake = cfg['lake'];
  if (lake === null || typeof lake !== 'object' || Array.isArray(lake)) return;
  const uri = lake['uri'];
  if (typeof uri !== 'string' || !uri.startsWith('s3://')) return;
  const s3 = (lake['s3'] && typeof lake['s3'] === 'object' && !Array.isArray(lake['s3']) ? lake['s3'] : {}) as Obj;
  const endpoint = env['AWS_ENDPOINT_URL_S3'] ?? env['AWS_ENDPOINT_URL'];
  if (s3['endpoint'] === undefined && endpoint) s3['endpoint'] = endpoint;
  const region = env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'];
  if (s3['region'] === undefined && region) s3['region'] = region;
  lake['s3'] = s3;
}
