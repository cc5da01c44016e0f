"""Map a Parquet table's samples with a drlim model exported to ONNX, on Apache Spark.

The model is fitted once, on one machine (``drlim fit`` on a sample), and exported with
``drlim export --model M --out model.onnx``; this job ships that file to every executor
(``spark-submit --files model.onnx``) and maps each partition through ONNX Runtime inside
``mapInPandas``: no drlim install is needed on the cluster, only numpy, pandas, pyarrow and
onnxruntime.

    spark-submit --master yarn --files model.onnx embed_parquet.py \\
        --model model.onnx --input s3://bucket/digits/ --output s3://bucket/digits-2d/

The sample column holds, per row, the raw values of one sample in the shape the model was
trained on: either ``binary`` (one byte per value, e.g. uint8 pixels) or an array of numbers
(flattened). The output has the ``--keep`` columns and ``embedding`` (array<float>, the d
coordinates).
"""

import argparse
import os
import sys
import time


def model_input(path):
    """The ONNX model's sample shape (its input without the batch axis) and output dimension."""
    import onnxruntime as ort

    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    shape = [int(d) for d in session.get_inputs()[0].shape[1:]]
    dim = int(session.get_outputs()[0].shape[1])
    return shape, dim


def shipped(model_file, spark_files):
    """The local path of the model: the copy `--files` shipped (`SparkFiles`), else the path
    as given (a local-mode run, or a file every node can read)."""
    for path in (spark_files.get(os.path.basename(model_file)), model_file):
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(
        f"{model_file}: not found; ship it with spark-submit --files {model_file}"
    )


def embed(df, model_file, shape, column="pixels", keep=("id",), threads=1):
    """``df`` with the ``keep`` columns and ``embedding``, the model's coordinates of
    ``column``. ``model_file`` is the path of the ONNX file on the executors: the file name
    given to ``--files`` (found with ``SparkFiles.get``), or a path every executor can read."""
    from pyspark.sql.types import ArrayType, FloatType, StructField, StructType

    keep = list(keep)
    per_sample = 1
    for d in shape:
        per_sample *= d
    schema = StructType(
        [df.schema[c] for c in keep] + [StructField("embedding", ArrayType(FloatType(), False))]
    )

    def embed_batches(batches):
        import numpy as np
        import onnxruntime as ort
        from pyspark import SparkFiles

        path = shipped(model_file, SparkFiles)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        for pdf in batches:
            values = pdf[column]
            if len(values) == 0:
                continue
            first = values.iloc[0]
            if isinstance(first, (bytes, bytearray)):
                x = np.frombuffer(b"".join(values), dtype=np.uint8)
            else:
                x = np.concatenate([np.asarray(v, dtype=np.float32) for v in values])
            if x.size != len(values) * per_sample:
                raise ValueError(
                    f"column {column!r}: {x.size} values in {len(values)} rows, but the model "
                    f"takes {per_sample} per sample (shape {shape})"
                )
            x = x.astype(np.float32, copy=False).reshape(len(values), *shape)
            coords = session.run(["embedding"], {"input": x})[0]
            out = pdf[keep].copy()
            out["embedding"] = list(coords)
            yield out

    return df.select(*keep, column).mapInPandas(embed_batches, schema)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="the ONNX file (shipped with --files: its name)")
    p.add_argument("--input", required=True, help="Parquet input (file or folder)")
    p.add_argument("--output", required=True, help="Parquet output folder (replaced)")
    p.add_argument("--column", default="pixels", help="the sample column (default: pixels)")
    p.add_argument("--keep", default="id", help="comma-separated columns to carry over (default: id)")
    p.add_argument("--batch-rows", type=int, default=8192, help="rows per Arrow batch (default 8192)")
    p.add_argument("--threads", type=int, default=1, help="ONNX Runtime threads per task (default 1)")
    args = p.parse_args(argv)

    from pyspark import SparkFiles
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.appName("drlim-embed")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(args.batch_rows))
        .getOrCreate()
    )
    shape, dim = model_input(shipped(args.model, SparkFiles))
    keep = [c for c in args.keep.split(",") if c]
    df = spark.read.parquet(args.input)
    start = time.perf_counter()
    embed(df, args.model, shape, args.column, keep, args.threads).write.mode("overwrite").parquet(
        args.output
    )
    seconds = time.perf_counter() - start
    rows = spark.read.parquet(args.output).count()
    print(
        f"embedded {rows} rows of shape {shape} into {dim} dimensions in {seconds:.1f} s "
        f"({rows / seconds:,.0f} rows/s): {args.output}",
        flush=True,
    )
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
