/**
 * How a client reaches the brokers — addresses, TLS, SASL — in one place, so the source's
 * consumer and admin and the dead-letter producer connect the same way (a secured cluster
 * that admits the consumer admits the dead letters too).
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { SASLOptions } from '@platformatic/kafka';
import type { Config } from '../config/index.js';
import { ConfigError } from '../config/error.js';

export interface KafkaSaslOptions {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username: string;
  password: string;
}

export interface KafkaConnection {
  /** `host:port` list. */
  brokers: string[];
  clientId?: string;
  sasl?: KafkaSaslOptions;
  /** true for TLS with system CAs, or node:tls options (ca, cert, key, rejectUnauthorized). */
  tls?: boolean | TlsOptions;
}

/** The client options shared by consumers, admins and producers; `clientId` when the connection names none. */
export function clientOptions(c: KafkaConnection, clientId: string): { clientId: string; bootstrapBrokers: string[]; tls?: TlsOptions; sasl?: SASLOptions } {
  const tls = c.tls === true ? {} : c.tls === false ? undefined : c.tls;
  return {
    clientId: c.clientId ?? clientId,
    bootstrapBrokers: c.brokers,
    ...(tls ? { tls } : {}),
    ...(c.sasl ? { sasl: saslOf(c.sasl) } : {}),
  };
}

function saslOf(s: KafkaSaslOptions): SASLOptions {
  const mechanism = s.mechanism === 'plain' ? 'PLAIN' : s.mechanism === 'scram-sha-256' ? 'SCRAM-SHA-256' : 'SCRAM-SHA-512';
  return { mechanism, username: s.username, password: s.password };
}

type KafkaConfig = NonNullable<Config['kafka']>;

/**
 * The config's `kafka` section as a connection. `tls.ca`, `cert` and `key` are PEM text or
 * the path of a PEM file (a mounted secret); files are read here, once, and a missing or
 * non-PEM file is a config error naming the field.
 */
export function kafkaConnection(k: KafkaConfig, clientId = k.clientId, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): KafkaConnection {
  return {
    brokers: k.brokers,
    clientId,
    ...(k.sasl ? { sasl: k.sasl } : {}),
    ...(k.tls ? { tls: tlsOptions(k.tls, read) } : {}),
  };
}

function tlsOptions(t: NonNullable<KafkaConfig['tls']>, read: (path: string) => string): TlsOptions {
  const out: TlsOptions = { rejectUnauthorized: t.rejectUnauthorized };
  for (const field of ['ca', 'cert', 'key'] as const) {
    const v = t[field];
    if (v !== undefined) out[field] = pem(v, `kafka.tls.${field}`, read);
  }
  return out;
}

const PEM_START = '-----BEGIN ';

function pem(value: string, field: string, read: (path: string) => string): string {
  if (value.includes(PEM_START)) return value;
  let text: string;
  try {
    text = read(value);
  } catch (e) {
    throw new ConfigError([{ path: field, message: `cannot read ${value}: ${e instanceof Error ? e.message : String(e)}; give PEM text or the path of a readable PEM file` }]);
  }
  if (!text.includes(PEM_START)) throw new ConfigError([{ path: field, message: `${value} holds no PEM block (no "${PEM_START}…" line); give a PEM file` }]);
  return text;
}
