/** Loads the Avro schemas of `schemas/hudi/` (one source of truth, shipped with the package). */
import { readFileSync } from 'node:fs';

const cache = new Map<string, unknown>();

/**
 * Reads `schemas/hudi/<name>.avsc`. The URL is relative to this module, which sits two
 * levels below the package root both as `src/hudi/*.ts` (tsx) and as `dist/hudi/*.js` (tsc).
 */
export function loadHudiSchema(name: string): unknown {
  let s = cache.get(name);
  if (s === undefined) {
    const url = new URL(`../../schemas/hudi/${name}.avsc`, import.meta.url);
    try {
      s = JSON.parse(readFileSync(url, 'utf8'));
    } catch (e) {
      throw new Error(`cannot load Avro schema ${url.pathname}: ${(e as Error).message}; the package's schemas/hudi folder must ship next to src/ or dist/`);
    }
    cache.set(name, s);
  }
  return s;
}
