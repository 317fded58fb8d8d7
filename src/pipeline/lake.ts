import { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config/index.js';
import type { ObjectStore } from '../storage/object-store.js';
import { openStore } from '../storage/open-store.js';
import { s3ClientConfig } from '../storage/s3-store.js';
import { HudiTable, type OpenOptions } from '../table/table.js';
import { PROPERTIES_PATH } from '../table/config.js';
import { tableIdentity, type TableIdentity } from './router.js';

/**
 * The lake: one Hudi table per source table at `<lake>/<schema>/<table>/`
 * (design brief §5). Discovery lists two folder levels and keeps what has a
 * `.hoodie/hoodie.properties`.
 */

export async function discoverTables(store: ObjectStore): Promise<TableIdentity[]> {
  const out: TableIdentity[] = [];
  const { dirs: schemas } = await store.listDir('');
  for (const s of schemas) {
    const schema = s.replace(/\/$/, '');
    if (schema.startsWith('.')) continue;
    const { dirs: tables } = await store.listDir(`${schema}/`);
    for (const t of tables) {
      const table = t.replace(/\/$/, '').split('/').pop() as string;
      if ((await store.head(`${schema}/${table}/${PROPERTIES_PATH}`)) === undefined) continue;
      out.push(tableIdentity(`${schema}.${table}`));
    }
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export class UnknownTable extends Error {
  override readonly name = 'UnknownTable';
}

/** Opens `<schema>.<table>` in the lake, with an error that lists the tables that do exist. */
export async function openLakeTable(store: ObjectStore, name: string, opts: OpenOptions = {}): Promise<HudiTable> {
  const id = tableIdentity(name);
  if (!(await HudiTable.exists(store, id.path))) {
    const known = (await discoverTables(store)).map((t) => t.id);
    throw new UnknownTable(`no table ${id.id} in ${store.uri}; tables: ${known.length > 0 ? known.join(', ') : '(none)'}`);
  }
  return HudiTable.open(store, id.path, opts);
}

/** The lake's store from the config: the URI plus the optional S3 settings (endpoint, region, path style, static keys). */
export function lakeStore(lake: Config['lake']): ObjectStore {
  const s3 = lake.s3;
  const base = { ...(s3.endpoint ? { endpoint: s3.endpoint } : {}), ...(s3.region ? { region: s3.region } : {}), forcePathStyle: s3.pathStyle };
  const client = s3.credentials === undefined ? undefined : new S3Client({ ...s3ClientConfig(base), credentials: s3.credentials });
  return openStore(lake.uri, { s3: { ...base, ...(client ? { client } : {}) } });
}
