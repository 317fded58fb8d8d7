import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  buildTableProperties, javaDateString, keyGeneratorClass, parseProperties, renderProperties, renderTableProperties, tableChecksum,
  KEYGEN_COMPLEX, KEYGEN_NONPARTITIONED, KEYGEN_SIMPLE,
} from '../../../src/hudi/properties.js';
import { parsePartitionMetadata, partitionDepth, renderPartitionMetadata } from '../../../src/hudi/partition-metadata.js';
import { allZips, fixtureTable } from './fixture-files.js';

test('checksum of every fixture hoodie.properties equals CRC-32 of "db.table"', async () => {
  const zips = allZips();
  assert.ok(zips.length >= 10, 'fixtures present');
  for (const zip of zips) {
    const t = await fixtureTable(zip);
    const props = parseProperties(readFileSync(join(t.base, '.hoodie/hoodie.properties'), 'utf8'), zip);
    const name = props.get('hoodie.table.name');
    assert.ok(name, `${zip} has a table name`);
    assert.equal(tableChecksum(props.get('hoodie.database.name') ?? '', name), props.get('hoodie.table.checksum'), zip);
  }
});

test('known checksum from the research note', () => {
  assert.equal(tableChecksum('default', 'v6_trips_8i3d'), '3180720914');
  assert.equal(tableChecksum('', 't'), tableChecksum('', 't'));
});

test('create schema with escaped colons parses to JSON and re-renders byte-identically', async () => {
  const t = await fixtureTable('quickstart_trips_table__mor__avro__v6_trips_8i3d.zip');
  const text = readFileSync(join(t.base, '.hoodie/hoodie.properties'), 'utf8');
  const props = parseProperties(text);
  const schema = JSON.parse(props.get('hoodie.table.create.schema') ?? '') as { name: string };
  assert.equal(schema.name, 'v6_trips_8i3d_record');
  assert.equal(props.get('hoodie.table.type'), 'MERGE_ON_READ');
  // Java writes values with ':' escaped; rendering the parsed map gives back the same lines.
  const lines = text.split('\n');
  const rendered = renderProperties(props, { date: new Date() }).split('\n').slice(1);
  assert.deepEqual(rendered.filter((l) => l !== ''), lines.filter((l) => l !== '' && !l.startsWith('#')));
});

test('render escapes like java.util.Properties', () => {
  const text = renderProperties(new Map([['a key', 'x=y:z #!\\ é\n']]), { date: new Date(Date.UTC(2025, 5, 18, 5, 47, 10)) });
  assert.equal(text, '#Wed Jun 18 05:47:10 UTC 2025\na\\ key=x\\=y\\:z \\#\\!\\\\ \\u00E9\\n\n');
  assert.deepEqual([...parseProperties(text)], [['a key', 'x=y:z #!\\ é\n']]);
});

test('parse handles continuations, separators and comments', () => {
  const p = parseProperties('! c\n# c\n  a : 1\nb=2 \\\n   3\nc 4\nd\n');
  assert.deepEqual(Object.fromEntries(p), { a: '1', b: '2 3', c: '4', d: '' });
});

test('render/parse round trip (property)', () => {
  fc.assert(
    fc.property(fc.dictionary(fc.string({ minLength: 1 }), fc.string()), (obj) => {
      const m = new Map(Object.entries(obj));
      assert.deepEqual(parseProperties(renderProperties(m, { comments: ['x'] })), m);
    }),
    { numRuns: 300 },
  );
});

test('java date line', () => {
  assert.equal(javaDateString(new Date(Date.UTC(2024, 0, 5, 3, 4, 5))), 'Fri Jan 05 03:04:05 UTC 2024');
});

test('buildTableProperties: our profile, checksum last', () => {
  const p = buildTableProperties({ tableName: 'orders', database: 'shop', recordKeyFields: ['id'], partitionFields: ['dt'], orderingField: '_cdc_position' });
  assert.equal(p.get('hoodie.table.type'), 'MERGE_ON_READ');
  assert.equal(p.get('hoodie.table.version'), '6');
  assert.equal(p.get('hoodie.timeline.layout.version'), '1');
  assert.equal(p.get('hoodie.table.timeline.timezone'), 'UTC');
  assert.equal(p.get('hoodie.compaction.payload.class'), 'org.apache.hudi.common.model.DefaultHoodieRecordPayload');
  assert.equal(p.get('hoodie.table.precombine.field'), '_cdc_position');
  assert.equal(p.get('hoodie.table.keygenerator.class'), KEYGEN_SIMPLE);
  assert.equal(p.get('hoodie.datasource.write.drop.partition.columns'), 'false');
  assert.equal(p.get('hoodie.table.base.file.format'), 'PARQUET');
  assert.equal([...p.keys()].at(-1), 'hoodie.table.checksum');
  assert.equal(p.get('hoodie.table.checksum'), tableChecksum('shop', 'orders'));
  const text = renderTableProperties(p);
  assert.ok(text.startsWith('#Properties saved on '));
  assert.deepEqual(parseProperties(text), p);
  const np = buildTableProperties({ tableName: 't', database: '', recordKeyFields: ['a', 'b'], partitionFields: [], orderingField: 'o', createSchema: '{"a":1}' });
  assert.equal(np.has('hoodie.table.partition.fields'), false);
  assert.equal(np.get('hoodie.table.keygenerator.class'), KEYGEN_NONPARTITIONED);
  assert.match(renderTableProperties(np), /hoodie\.table\.create\.schema=\{"a"\\:1\}/);
  assert.equal(keyGeneratorClass(['a', 'b'], ['p']), KEYGEN_COMPLEX);
  assert.equal(keyGeneratorClass(['a'], ['p', 'q']), KEYGEN_COMPLEX);
  assert.throws(() => buildTableProperties({ tableName: 't', database: '', recordKeyFields: [], partitionFields: [], orderingField: 'o' }), /recordKeyFields/);
});

test('keygen class matches every v6 fixture', async () => {
  for (const zip of allZips().filter((z) => z.includes('v6'))) {
    const t = await fixtureTable(zip);
    const p = parseProperties(readFileSync(join(t.base, '.hoodie/hoodie.properties'), 'utf8'));
    const keys = (p.get('hoodie.table.recordkey.fields') ?? '').split(',');
    const parts = p.get('hoodie.table.partition.fields')?.split(',') ?? [];
    assert.equal(keyGeneratorClass(keys, parts), p.get('hoodie.table.keygenerator.class'), zip);
  }
});

test('partition metadata of every fixture partition parses; ours round-trips', async () => {
  let seen = 0;
  for (const zip of allZips()) {
    const t = await fixtureTable(zip);
    for (const f of t.files.filter((x) => x.endsWith('.hoodie_partition_metadata') && !x.startsWith('.hoodie/'))) {
      const m = parsePartitionMetadata(readFileSync(join(t.base, f), 'utf8'), f);
      const partition = f.split('/').slice(0, -1).join('/');
      assert.equal(m.partitionDepth, partitionDepth(partition), `${zip} ${f}`);
      assert.match(m.commitTime, /^\d{17}$/);
      seen++;
    }
  }
  assert.ok(seen >= 10, `saw ${seen} partition metadata files`);
  const text = renderPartitionMetadata({ commitTime: '20250101000000000', partitionDepth: 2 }, new Date(Date.UTC(2025, 0, 1)));
  assert.equal(text, '#partition metadata\n#Wed Jan 01 00:00:00 UTC 2025\ncommitTime=20250101000000000\npartitionDepth=2\n');
  assert.deepEqual(parsePartitionMetadata(text), { commitTime: '20250101000000000', partitionDepth: 2 });
  assert.throws(() => parsePartitionMetadata('commitTime=1\n', 'x/.hoodie_partition_metadata'), /x\/\.hoodie_partition_metadata/);
});
