"""Apache Spark for order books that outgrow one machine: the same Ibis rule expression, on Spark.

`CHIPEX_SPARK_MASTER` names the cluster (e.g. spark://host:7077); the default is local mode.
Needs the `spark` extra (pyspark) and Java 17.
"""

from __future__ import annotations

import os
import tempfile

from chipex.errors import ChipexError


def spark_backend():
    try:
        import ibis
        from pyspark.sql import SparkSession
    except ImportError:
        raise ChipexError("the Spark engine needs the spark extra: pip install 'chipex[spark]'") from None
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    master = os.environ.get("CHIPEX_SPARK_MASTER", "local[2]")
    session = (
        SparkSession.builder.master(master)
        .appName("chipex")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="chipex-spark-"))
        .getOrCreate()
    )
    return ibis.pyspark.connect(session)
