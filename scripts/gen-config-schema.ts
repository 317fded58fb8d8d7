/**
 * Writes schemas/config.schema.json from the zod config schema, for editor
 * completion (`# yaml-language-server: $schema=…`). Run after changing
 * src/config/schema.ts: `node --import tsx scripts/gen-config-schema.ts`.
 * test/unit/config/schema-file.test.ts fails when the committed file is stale.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigSchema } from '../src/config/schema.js';

export const CONFIG_SCHEMA_PATH = fileURLToPath(new URL('../schemas/config.schema.json', import.meta.url));

/** The JSON Schema text, stable for a given zod schema (so staleness is a plain string compare). */
export function configJsonSchemaText(): string {
  const js = z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const doc = {
    $schema: js['$schema'],
    $id: 'https://github.com/cdc-lake/cdc-lake/schemas/config.schema.json',
    title: 'cdc-lake daemon configuration',
    description: 'Generated from src/config/schema.ts by scripts/gen-config-schema.ts; do not edit.',
    ...Object.fromEntries(Object.entries(js).filter(([k]) => k !== '$schema')),
  };
  return JSON.stringify(doc, null, 2) + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(CONFIG_SCHEMA_PATH, configJsonSchemaText());
  console.log(`wrote ${CONFIG_SCHEMA_PATH}`);
}
