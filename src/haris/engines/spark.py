"""Batch scans on Apache Spark: the same analysis core, spread over a cluster.

Input is either

* Parquet or JSONL already in the haris message schema (one
  :func:`haris.model.message_to_dict` object per row) — read by Spark directly,
  which is what a cluster backfill over HDFS/S3 uses; or
* any export haris reads (Telegram, WhatsApp, Twitter/X, generic JSONL/CSV):
  the driver streams it through the same connectors as the local engine into a
  staged JSONL of messages, so ids are the same as on a laptop.

Each partition builds one :class:`~haris.engines.core.Analyzer` and analyses
its rows; results (one row per message: language, entities, signals, the
policies flagged) are written as Parquet (a folder) or JSONL (``.jsonl``).

On a cluster::

    spark-submit --master yarn --py-files haris.zip -m haris.cli scan --engine spark \
        --spark-master yarn hdfs:///exports/messages.parquet --out hdfs:///haris/results.parquet

(every executor needs haris and its dependencies installed, e.g. a packed venv
shipped with ``--archives``).
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

RESULT_FIELDS = ("id", "lang", "flagged", "max_score", "signals", "entities")


def _is_message_schema(path: Path) -> bool:
    if path.suffix == ".parquet" or (path.is_dir() and any(path.glob("*.parquet"))):
        return True
    if path.suffix == ".jsonl":
        with open(path, encoding="utf-8") as fh:
            first = fh.readline()
        try:
            d = json.loads(first)
        except json.JSONDecodeError:
            return False
        return isinstance(d, dict) and {"id", "platform", "platform_id", "text"} <= d.keys() and "links" in d
    return False


def stage_messages(paths: Iterable[str | Path], staging: Path, fmt: str | None = None) -> Path:
    """Stream every message of the inputs into one JSONL in the haris message schema."""
    from haris import ingest
    from haris.model import Message, message_to_dict

    out = staging / "messages.jsonl"
    with open(out, "w", encoding="utf-8") as fh:
        for path in ingest.iter_files(paths):
            for rec in ingest.read(path, fmt):
                if isinstance(rec, Message):
                    fh.write(json.dumps(message_to_dict(rec), ensure_ascii=False) + "\n")
    return out


def analyse_partition(rows: Iterator, thresholds: dict[str, float] | None = None) -> Iterator[tuple]:
    """Analyse one partition's rows (dicts in the message schema); runs on the executors."""
    from haris.detect.registry import threshold_for
    from haris.engines.core import Analyzer
    from haris.model import message_from_dict

    analyzer = Analyzer()
    thresholds = thresholds or {}
    messages = (message_from_dict(row.asDict(recursive=True) if hasattr(row, "asDict") else row) for row in rows)
    for res in analyzer.analyse_chunked(messages):
        flagged = sorted({s.policy for s in res.signals if s.score >= thresholds.get(s.policy, threshold_for(s.policy))})
        yield (res.message.id, res.analysed.lang, flagged,
               max((s.score for s in res.signals), default=0.0),
               json.dumps([s.to_dict() for s in res.signals], ensure_ascii=False, sort_keys=True),
               json.dumps([{"kind": e.kind, "start": e.start, "end": e.end, "text": e.text, "value": e.value}
                           for e in res.analysed.entities], ensure_ascii=False, sort_keys=True))


def spark_session(master: str = "local[*]", app: str = "haris-scan"):
    # Executors must run the same Python (and so the same haris) as the driver.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    return (SparkSession.builder.master(master).appName(app)
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.host", "127.0.0.1")
            .getOrCreate())


def _message_schema():
    from pyspark.sql.types import ArrayType, LongType, StringType, StructField, StructType

    link = StructType([StructField(n, StringType()) for n in ("url", "platform", "kind", "domain")]
                      + [StructField("start", LongType()), StructField("end", LongType())])
    media = StructType([StructField(n, StringType()) for n in ("id", "kind", "sha256", "path", "url", "mime")]
                       + [StructField("size", LongType())])
    return StructType([StructField(n, StringType()) for n in (
        "id", "platform", "platform_id", "channel_id", "author_id", "time", "text", "conversation_id",
        "reply_to_id", "forwarded_from", "forwarded_from_id", "kind", "origin")]
        + [StructField("links", ArrayType(link)), StructField("media", ArrayType(media))])


def scan_spark(paths: list[str | Path], out: str | Path, *, master: str = "local[*]", fmt: str | None = None,
               partitions: int | None = None, thresholds: dict[str, float] | None = None,
               spark=None) -> dict:
    """Analyse ``paths`` on Spark and write results to ``out``; returns counts."""
    from pyspark.sql.types import ArrayType, DoubleType, StringType, StructField, StructType

    own = spark is None
    spark = spark or spark_session(master)
    out = str(out)
    try:
        with tempfile.TemporaryDirectory(prefix="haris-spark-") as tmp:
            direct = [Path(p) for p in paths if _is_message_schema(Path(p))]
            staged = [p for p in paths if Path(p) not in direct]
            inputs = [str(p) for p in direct]
            if staged:
                inputs.append(str(stage_messages(staged, Path(tmp), fmt)))
            frames = []
            for p in inputs:
                if p.endswith(".parquet") or Path(p).is_dir():
                    frames.append(spark.read.parquet(p))
                else:
                    frames.append(spark.read.schema(_message_schema()).json(p))
            df = frames[0]
            for f in frames[1:]:
                df = df.unionByName(f, allowMissingColumns=True)
            if partitions:
                df = df.repartition(partitions)
            th = dict(thresholds or {})
            rdd = df.rdd.mapPartitions(lambda rows: analyse_partition(rows, th))
            schema = StructType([StructField("id", StringType()), StructField("lang", StringType()),
                                 StructField("flagged", ArrayType(StringType())),
                                 StructField("max_score", DoubleType()),
                                 StructField("signals", StringType()), StructField("entities", StringType())])
            res = spark.createDataFrame(rdd, schema).cache()
            if out.endswith(".jsonl") or out.endswith(".json"):
                rows = res.orderBy("id").toLocalIterator()
                with open(out, "w", encoding="utf-8") as fh:
                    for r in rows:
                        d = r.asDict()
                        d["signals"], d["entities"] = json.loads(d["signals"]), json.loads(d["entities"])
                        fh.write(json.dumps(d, ensure_ascii=False) + "\n")
            else:
                res.write.mode("overwrite").parquet(out)
            total = res.count()
            flagged = res.filter("size(flagged) > 0").count()
            res.unpersist()
            return {"messages": total, "flagged": flagged, "out": out}
    finally:
        if own:
            spark.stop()
