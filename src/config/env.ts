/**
 * `CDC_LAKE_*` environment overrides. The name after the prefix is a path: a
 * double underscore nests, a single underscore separates words of one key
 * (matched case-insensitively against the schema's camelCase keys):
 *   CDC_LAKE_KAFKA__BROKERS=a:9092,b:9092   → kafka.brokers = ["a:9092", "b:9092"]
 *   CDC_LAKE_BUFFER__MAX_ROWS=5000          → buffer.maxRows = 5000
 *   CDC_LAKE_KAFKA__SASL__PASSWORD=…        → kafka.sasl.password
 * Values are coerced by the schema: lists split on commas, numbers and booleans
 * parsed; a value starting with `[` or `{` is read as YAML/JSON flow text.
 * Names without `__` are not config (other tools' CDC_LAKE_* variables); a name
 * with `__` that matches no setting is an error, so typos do not pass silently.
 */
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigProblem } from './error.js';

export const ENV_PREFIX = 'CDC_LAKE_';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

/** The zod internals we walk: every v4 schema has `def.type` and wrapper-specific fields. */
interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  options?: z.ZodType[];
}

function defOf(s: z.ZodType): Def {
  return (s as unknown as { def: Def }).def;
}

/** Strips optional/default/pipe wrappers down to the schema that decides the value's type. */
function unwrap(s: z.ZodType): z.ZodType {
  let cur = s;
  for (let i = 0; i < 20; i++) {
    const d = defOf(cur);
    if (d.innerType && ['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch'].includes(d.type)) cur = d.innerType;
    else if (d.type === 'pipe' && d.in) cur = d.in;
    else return cur;
  }
  return cur;
}

const norm = (s: string): string => s.replace(/_/g, '').toLowerCase();

/** Applies every `CDC_LAKE_*` variable of `env` onto a copy of `base` (the parsed file). */
export function applyEnvOverrides(base: Obj, env: NodeJS.ProcessEnv, schema: z.ZodType): Obj {
  const out = structuredClone(base);
  const problems: ConfigProblem[] = [];
  // Only names with a `__` are config paths (every setting sits inside a section), so
  // other CDC_LAKE_* variables (test-stack settings such as CDC_LAKE_TEST_BUCKET) pass by.
  const names = Object.keys(env)
    .filter((k) => k.startsWith(ENV_PREFIX) && k.includes('__'))
    .sort();
  for (const name of names) {
    const raw = env[name];
    if (raw === undefined) continue;
    const segments = name.slice(ENV_PREFIX.length).split('__');
    let node = unwrap(schema);
    let target: Obj = out;
    const path: string[] = [];
    let failed = false;
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i] ?? '';
      const shape = defOf(node).shape;
      const key = shape ? Object.keys(shape).find((k) => norm(k) === norm(seg)) : undefined;
      if (!shape || !key) {
        problems.push({
          path: [...path, seg.toLowerCase()].join('.') || '(root)',
          message: `unknown setting from environment variable ${name}; see docs/configuration.md for the names`,
        });
        failed = true;
        break;
      }
      path.push(key);
      node = unwrap(shape[key] as z.ZodType);
      if (i === segments.length - 1) {
        target[key] = coerce(raw, node);
      } else {
        const next = target[key];
        if (next === null || typeof next !== 'object' || Array.isArray(next)) target[key] = {};
        target = target[key] as Obj;
      }
    }
    if (failed) continue;
  }
  if (problems.length > 0) throw new ConfigError(problems, 'environment');
  return out;
}

function coerce(raw: string, node: z.ZodType): Json {
  const t = raw.trim();
  if (t.startsWith('[') || t.startsWith('{')) return parseYaml(t) as Json;
  switch (defOf(node).type) {
    case 'array':
      return t === '' ? [] : t.split(',').map((x) => x.trim());
    case 'number':
    case 'int': {
      const n = Number(t);
      return t !== '' && Number.isFinite(n) ? n : raw; // leave bad text for zod to report
    }
    case 'boolean':
      if (/^(true|1|yes)$/i.test(t)) return true;
      if (/^(false|0|no)$/i.test(t)) return false;
      return raw;
    default:
      return raw;
  }
}
