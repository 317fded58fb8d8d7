// hudi-rs (through scripts/oracle/hudi_read.py) reads a Spark-written MOR
// fixture, from a local folder and from the stack's S3.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { before, test } from "node:test";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { fixturesDir, readWithHudiRs, stackEnv, stackS3Client } from "../../support/stack-env.js";
import { tempDirSync } from "../../support/temp.js";

const FIXTURE = "quickstart_trips_table__mor__avro__v6_trips_8i1u";
let dir = "";
let table = "";

before(() => {
  dir = tempDirSync("hudi-oracle-");
  execFileSync("unzip", ["-q", join(fixturesDir(), "hudi", `${FIXTURE}.zip`), "-d", dir]);
  table = join(dir, "v6_trips_8i1u");
});

test("hudi-rs reads the Spark-written MOR fixture (snapshot)", async () => {
  const rows = await readWithHudiRs(table);
  for (const r of rows) console.log(JSON.stringify(r));
  assert.equal(rows.length, 8);
  const keys = rows.map((r) => r["_hoodie_record_key"]);
  assert.equal(new Set(keys).size, 8, "record keys are unique");
  assert.deepEqual(
    [...new Set(rows.map((r) => r["city"]))].sort(),
    ["chennai", "san_francisco", "sao_paulo"],
  );
  for (const r of rows) assert.equal(typeof r["fare"], "number");
});

test("hudi-rs timeline and incremental read of the fixture", async () => {
  const instants = await readWithHudiRs(table, { mode: "timeline" });
  assert.ok(instants.length >= 2, `expected >= 2 completed instants, got ${instants.length}`);
  const first = String(instants[0]?.["timestamp"]);
  const inc = await readWithHudiRs(table, { mode: "incremental", start: first });
  // The second deltacommit updated one record: only it is newer than the first instant.
  assert.ok(inc.length >= 1 && inc.length < 8, `incremental after ${first} returned ${inc.length} rows`);
  for (const r of inc) assert.ok(String(r["_hoodie_commit_time"]) > first);
});

test("hudi-rs reads the same table from the stack's S3", async () => {
  const { s3 } = stackEnv();
  const client = stackS3Client();
  const prefix = `stack-smoke/hudi-${Date.now()}`;
  const walk = (d: string): string[] =>
    readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : [join(d, n)]));
  try {
    for (const f of walk(table)) {
      await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `${prefix}/${relative(table, f)}`, Body: readFileSync(f) }));
    }
  } finally {
    client.destroy();
  }
  const local = await readWithHudiRs(table);
  const remote = await readWithHudiRs(`s3://${s3.bucket}/${prefix}`);
  assert.deepEqual(remote, local);
});
