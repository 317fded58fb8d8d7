import type { ObjectStore } from '../storage/object-store.js';
import { joinPath } from '../table/timeline.js';

/**
 * Named incremental consumers (`--consumer etl1`): the last instant each one has
 * read, kept in the table's auxiliary folder so ETL jobs pull commit by commit
 * and cleaning knows what they still need.
 */

export const CONSUMERS_DIR = '.hoodie/.aux/cdc-lake/consumers';
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export class ConsumerError extends Error {
  override readonly name = 'ConsumerError';
}

export interface ConsumerState {
  name: string;
  lastInstant: string;
  updatedAt: string;
}

function path(base: string, name: string): string {
  if (!NAME.test(name)) throw new ConsumerError(`consumer name "${name}" must be 1-64 letters, digits, '.', '_' or '-'`);
  return joinPath(base, CONSUMERS_DIR, `${name}.json`);
}

export async function readConsumer(store: ObjectStore, base: string, name: string): Promise<ConsumerState | undefined> {
  const p = path(base, name);
  if ((await store.head(p)) === undefined) return undefined;
  return JSON.parse(Buffer.from(await store.get(p)).toString('utf8')) as ConsumerState;
}

export async function saveConsumer(store: ObjectStore, base: string, name: string, lastInstant: string): Promise<void> {
  const state: ConsumerState = { name, lastInstant, updatedAt: new Date().toISOString() };
  await store.put(path(base, name), JSON.stringify(state));
}

export async function listConsumers(store: ObjectStore, base: string): Promise<ConsumerState[]> {
  const files = await store.list(`${joinPath(base, CONSUMERS_DIR)}/`);
  const out: ConsumerState[] = [];
  for (const f of files) {
    if (f.key.endsWith('.json')) out.push(JSON.parse(Buffer.from(await store.get(f.key)).toString('utf8')) as ConsumerState);
  }
  return out;
}

/** The oldest instant a registered consumer has read: cleaning must keep everything after it. */
export async function oldestConsumerInstant(store: ObjectStore, base: string): Promise<{ name: string; instant: string } | undefined> {
  const all = await listConsumers(store, base);
  all.sort((a, b) => (a.lastInstant < b.lastInstant ? -1 : 1));
  const first = all[0];
  return first === undefined ? undefined : { name: first.name, instant: first.lastInstant };
}
