"""fasciculate.bulk on Spark (local mode): the single machine's outcomes, record for record."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys

import pytest

from conftest import EXAMPLES
from fasciculate.bulk import screen_export, screen_export_spark, spark_schema
from test_bulk import _bad_export, _medication_export

pytest.importorskip("pyspark")
if shutil.which("java") is None and os.environ.get("CI") != "true":  # `.ci/run` installs it
    pytest.skip("Spark needs a Java runtime (openjdk-17-jre-headless)", allow_module_level=True)

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

EXPORT = EXAMPLES / "bulk-export"
AS_OF = dt.date(2026, 12, 1)


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession  # noqa: PLC0415

    saved = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = sys.executable  # the Python workers: the one with fasciculate
    session = (
        SparkSession.builder.master("local[2]")
        .appName("fasciculate-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    yield session
    session.stop()
    if saved is None:
        del os.environ["PYSPARK_PYTHON"]
    else:
        os.environ["PYSPARK_PYTHON"] = saved


def _same_outcomes(spark, folder, **options):
    single = screen_export(folder, as_of=AS_OF, **options)
    lines = [json.loads(outcome.to_json()) for outcome in single]
    screening = screen_export_spark(spark, folder, as_of=AS_OF, partitions=3, **options)
    rows = [row.asDict(recursive=True) for row in screening.outcomes.collect()]
    assert len(lines) == len(rows)
    for line, row in zip(lines, rows, strict=True):
        if "assessment" in line:
            assert line.pop("assessment") == json.loads(row["assessment"])
        assert line == {key: row[key] for key in line}
    return single.summary, screening.summary()


def test_spark_writes_what_one_machine_writes(spark):
    """The bundled export on Spark: the same rows, in the same order, and the same counts."""
    single, distributed = _same_outcomes(spark, EXPORT, full=True)
    assert single == distributed
    assert spark_schema() == screen_export_spark(spark, EXPORT, as_of=AS_OF).outcomes.schema


def test_spark_accounts_for_every_bad_record_as_one_machine_does(spark, tmp_path):
    """A bad record of every kind, a truncated .gz among them: the same problems, in place."""
    folder, records, _ = _bad_export(tmp_path)
    single, distributed = _same_outcomes(spark, folder)
    assert single == distributed
    assert records == distributed.records_in == distributed.records_out


def test_spark_looks_up_medications_referenced_by_id_as_one_machine_does(spark, tmp_path):
    """Furosemide named only as Medication/<id>: Spark broadcasts the Medication as one machine
    attaches it (the whole assessments agree), and a missing one is read by display on both."""
    folder, _ = _medication_export(tmp_path)
    single, distributed = _same_outcomes(spark, folder, full=True)
    assert single == distributed
    assert 1 == distributed.medications


def test_the_rows_write_to_parquet(spark, tmp_path):
    """The outcomes DataFrame writes as Parquet and reads back whole."""
    screening = screen_export_spark(spark, EXPORT, as_of=AS_OF)
    screening.outcomes.write.parquet(str(tmp_path / "out"))
    read = spark.read.parquet(str(tmp_path / "out"))
    assert 28 == read.count()
    assert 533 == read.agg({"records": "sum"}).collect()[0][0]


def test_spark_has_the_parquet_columns():
    """The Spark schema has the columns of the Parquet schema, in its order."""
    pytest.importorskip("pyarrow")
    from fasciculate.bulk import schema  # noqa: PLC0415

    assert schema().names == [field.name for field in spark_schema().fields]
