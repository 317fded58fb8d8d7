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
  const base = { url: r.url, apicurioIdType: r.apicurioIdType };
  if (r.basicAuth) return { ...base, auth: r.basicAuth };
  if (r.bearerToken) return { ...base, auth: { bearerToken: r.bearerToken } };
  return base;
}
