import type { Config } from '../config/index.js';
import type { DecodeContextOptions } from '../debezium/decode.js';
import { SchemaRegistryClient, type SchemaRegistryOptions } from '../debezium/schema-registry.js';

/** The decoder's options from the config's `source` section: one reading for `run`, `ingest` and `demo`. */
export function decodeOptions(source: Config['source']): Omit<DecodeContextOptions, 'tracker'> {
  const registry = source.schemaRegistry;
  return {
    format: source.format,
    keyless: source.keyless,
    binaryHandling: source.binaryHandling,
    // an empty placeholder would mark every empty string unavailable
    ...(source.unavailableValuePlaceholder ? { unavailablePlaceholder: source.unavailableValuePlaceholder } : {}),
    ...(registry ? { registry: new SchemaRegistryClient(registryOptions(registry)) } : {}),
  };
}

function registryOptions(r: NonNullable<Config['source']['schemaRegistry']>): SchemaRegistryOptions {
  if (r.basicAuth) return { url: r.url, auth: r.basicAuth };
  if (r.bearerToken) return { url: r.url, auth: { bearerToken: r.bearerToken } };
  return { url: r.url };
}
