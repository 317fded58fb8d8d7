#!/usr/bin/env python3
"""Run many Hudi queries against one table in ONE Spark session (a JVM start
costs minutes on a loaded machine; scripts/oracle/spark_read.py starts one per
query). Same canonical JSONL as the oracles, one line per row, tagged with the
query's index:  {"q": 3, "row": {...}}  and  {"q": 3, "error": "..."} on failure.

usage: spark_batch.py <table_path> <queries.json>
  queries.json: [{"mode": "snapshot"|"read_optimized"|"incremental",
                  "as_of": T?, "start": T?, "end": T?}, ...]
  mode "archived_timeline": the instants Hudi's own HoodieArchivedTimeline reads
  from .hoodie/archived, one row each: {"ts", "action", "state", "details"}
  (details: the completed instant's metadata as Hudi renders it, or null).
Needs HUDI_SPARK_BUNDLE and pyspark 3.5 (SPARK_PYTHON), like spark_read.py.
"""
from __future__ import annotations

import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "scripts", "oracle"))
from spark_read import read_rows, start_spark  # noqa: E402  (one Spark setup and query path for both oracles)


def archived_timeline(spark, table_path: str) -> list:
    jvm = spark._jvm
    conf = jvm.org.apache.hudi.storage.hadoop.HadoopStorageConfiguration(spark._jsc.hadoopConfiguration())
    meta = jvm.org.apache.hudi.common.table.HoodieTableMetaClient.builder().setConf(conf).setBasePath(table_path).build()
    timeline = meta.getArchivedTimeline()
    timeline.loadCompletedInstantDetailsInMemory()
    rows = []
    for inst in timeline.getInstants():
        details = timeline.getInstantDetails(inst)
        text = bytes(details.get()).decode("utf-8", "replace") if details.isPresent() else None
        rows.append({"ts": inst.getTimestamp(), "action": inst.getAction(), "state": inst.getState().name(), "details": text})
    rows.sort(key=lambda r: (r["ts"], r["action"], r["state"]))
    return rows


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    table_path, queries_file = argv
    with open(queries_file, encoding="utf-8") as f:
        queries = json.load(f)
    bundle = os.environ.get("HUDI_SPARK_BUNDLE")
    if not bundle or not os.path.isfile(bundle):
        print(f"spark_batch.py: HUDI_SPARK_BUNDLE={bundle!r} is not a file: run `npm run stack:up`", file=sys.stderr)
        return 2
    spark, out = start_spark("cdc-lake-spark-batch", bundle)
    try:
        for qi, q in enumerate(queries):
            try:
                mode = q.get("mode", "snapshot")
                if mode == "archived_timeline":
                    rows = archived_timeline(spark, table_path)
                else:
                    rows = read_rows(spark, table_path, mode, q.get("as_of"), q.get("start"), q.get("end"))
                for r in rows:
                    out.write(json.dumps({"q": qi, "row": r}, sort_keys=True, ensure_ascii=False) + "\n")
            except Exception as e:  # py4j / analysis errors: report per query, keep going
                out.write(json.dumps({"q": qi, "error": f"{type(e).__name__}: {str(e)[:2000]}"}) + "\n")
            out.flush()
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
