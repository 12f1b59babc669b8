"""Apache Spark for order books that outgrow one machine: the same Ibis rule expression, on Spark.

`CHIPEX_SPARK_MASTER` names the cluster (e.g. spark://host:7077); the default is local mode.
Needs the `spark` extra (pyspark) and Java 17. The JVM's own output (its log lines and stage progress
bars) goes to chipex-spark.log in the temporary folder, not the user's terminal, unless
`CHIPEX_SPARK_LOGS=1` (`chipex check --verbose`).
"""

from __future__ import annotations

import os
import sys
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
    builder = (
        SparkSession.builder.master(master)
        .appName("chipex")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="chipex-spark-"))
    )
    return ibis.pyspark.connect(_start(builder))


def _start(builder):
    """Start (or get) the session; a JVM started here writes its stderr to the log file (it inherits
    file descriptor 2 while it starts), and this process's stderr is put back."""
    if os.environ.get("CHIPEX_SPARK_LOGS") == "1":
        return builder.getOrCreate()
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.path.join(tempfile.gettempdir(), "chipex-spark.log"), "ab") as log:
        os.dup2(log.fileno(), 2)
        try:
            return builder.getOrCreate()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
