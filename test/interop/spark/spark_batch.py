#!/usr/bin/env python3
"""Run many Hudi queries against one table in ONE Spark session (a JVM start
costs minutes on a loaded machine; scripts/oracle/spark_read.py starts one per
query). Same canonical JSONL as the oracles, one line per row, tagged with the
query's index:  {"q": 3, "row": {...}}  and  {"q": 3, "error": "..."} on failure.

usage: spark_batch.py <table_path> <queries.json>
  queries.json: [{"mode": "snapshot"|"read_optimized"|"incremental",
                  "as_of": T?, "start": T?, "end": T?}, ...]
Needs HUDI_SPARK_BUNDLE and pyspark 3.5 (SPARK_PYTHON), like spark_read.py.
"""
from __future__ import annotations

import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "scripts", "oracle"))
from hudi_read import canonical, row_sort_key  # noqa: E402  (the oracles' canonical encoding)


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
    os.environ["TZ"] = "UTC"
    time.tzset()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # the JVM may print on stdout; keep stdout for our JSONL
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[1]")
        .appName("cdc-lake-spark-batch")
        .config("spark.jars", bundle)
        .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
        .config("spark.kryo.registrator", "org.apache.spark.HoodieSparkKryoRegistrar")
        .config("spark.sql.extensions", "org.apache.spark.sql.hudi.HoodieSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.hudi.catalog.HoodieCatalog")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        for qi, q in enumerate(queries):
            try:
                reader = spark.read.format("hudi").option("hoodie.metadata.enable", "false")
                mode = q.get("mode", "snapshot")
                if mode == "incremental":
                    reader = reader.option("hoodie.datasource.query.type", "incremental").option(
                        "hoodie.datasource.read.begin.instanttime", q["start"]
                    )
                    if q.get("end"):
                        reader = reader.option("hoodie.datasource.read.end.instanttime", q["end"])
                else:
                    reader = reader.option("hoodie.datasource.query.type", mode)
                    if q.get("as_of"):
                        reader = reader.option("as.of.instant", q["as_of"])
                df = reader.load(table_path)
                rows = [{k: canonical(v) for k, v in r.asDict(recursive=True).items()} for r in df.collect()]
                rows.sort(key=row_sort_key)
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
