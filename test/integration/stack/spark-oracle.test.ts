// The second oracle: Spark 3.5 + Hudi 0.15 reads the Spark-written MOR fixture
// and agrees row for row with hudi-rs (both print canonical JSONL).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { before, test } from "node:test";
import { fixturesDir, readWithHudiRs, readWithSpark } from "../../support/stack-env.js";
import { tempDirSync } from "../../support/temp.js";

let dir = "";
let table = "";
before(() => {
  dir = tempDirSync("spark-oracle-");
  execFileSync("unzip", ["-q", join(fixturesDir(), "hudi", "quickstart_trips_table__mor__avro__v6_trips_8i1u.zip"), "-d", dir]);
  table = join(dir, "v6_trips_8i1u");
});

test("Spark-Hudi and hudi-rs read the same snapshot of the fixture", { timeout: 600_000 }, async () => {
  const [spark, rs] = await Promise.all([readWithSpark(table), readWithHudiRs(table)]);
  assert.equal(spark.length, 8);
  assert.deepEqual(spark, rs);
});
