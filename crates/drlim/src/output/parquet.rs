//! Parquet outputs, for the tools people already use (pandas, Polars, DuckDB, Spark, Embedding
//! Atlas): the coordinates as FLOAT columns `x0`, `x1`, … and any per-row columns (labels,
//! metadata) alongside, one snappy-compressed row group per block written.

use std::fs::File;
use std::sync::Arc;

use parquet::basic::{Compression, ConvertedType, LogicalType, Repetition, Type as Physical};
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, FloatType, Int64Type};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;

/// The values of a per-row column written beside the coordinates.
#[derive(Clone, Debug, PartialEq)]
pub enum ExtraValues {
    /// Whole numbers (labels, indices): INT64.
    Int64(Vec<i64>),
    /// Numbers: DOUBLE.
    Float64(Vec<f64>),
    /// Text: UTF-8 strings.
    Text(Vec<String>),
}

/// A named per-row column written beside the coordinates (Parquet outputs only).
#[derive(Clone, Debug, PartialEq)]
pub struct ExtraColumn {
    /// The column's name (not `x0`, `x1`, …, which the coordinates take).
    pub name: String,
    /// One value per row.
    pub values: ExtraValues,
}

impl ExtraColumn {
    /// Number of values.
    pub fn len(&self) -> usize {
        match &self.values {
            ExtraValues::Int64(v) => v.len(),
            ExtraValues::Float64(v) => v.len(),
            ExtraValues::Text(v) => v.len(),
        }
    }

    /// Whether the column has no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A Parquet file being written block by block.
pub(super) struct ParquetSink {
    writer: SerializedFileWriter<File>,
    cols: usize,
    extras: Vec<ExtraColumn>,
    written: usize,
}

fn field(name: &str, physical: Physical, text: bool) -> Result<Arc<Type>, ParquetError> {
    let mut b = Type::primitive_type_builder(name, physical).with_repetition(Repetition::REQUIRED);
    if text {
        b = b
            .with_logical_type(Some(LogicalType::String))
            .with_converted_type(ConvertedType::UTF8);
    }
    Ok(Arc::new(b.build()?))
}

impl ParquetSink {
    /// Starts the file: its schema is the `cols` coordinates, then the extra columns.
    pub(super) fn new(
        file: File,
        cols: usize,
        extras: Vec<ExtraColumn>,
    ) -> Result<Self, ParquetError> {
        let mut fields: Vec<Arc<Type>> = (0..cols)
            .map(|j| field(&format!("x{j}"), Physical::FLOAT, false))
            .collect::<Result<_, _>>()?;
        for e in &extras {
            fields.push(match e.values {
                ExtraValues::Int64(_) => field(&e.name, Physical::INT64, false)?,
                ExtraValues::Float64(_) => field(&e.name, Physical::DOUBLE, false)?,
                ExtraValues::Text(_) => field(&e.name, Physical::BYTE_ARRAY, true)?,
            });
        }
        let schema = Arc::new(
            Type::group_type_builder("drlim_embedding")
                .with_fields(fields)
                .build()?,
        );
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by(format!("drlim {}", env!("CARGO_PKG_VERSION")))
            .build();
        let writer = SerializedFileWriter::new(file, schema, Arc::new(props))?;
        Ok(Self {
            writer,
            cols,
            extras,
            written: 0,
        })
    }

    /// Writes whole rows as one row group: the coordinates and the extras' matching rows.
    pub(super) fn write_rows(&mut self, values: &[f32]) -> Result<(), ParquetError> {
        let n = values.len() / self.cols;
        let (from, to) = (self.written, self.written + n);
        let mut group = self.writer.next_row_group()?;
        let mut k = 0;
        while let Some(mut col) = group.next_column()? {
            if k < self.cols {
                let v: Vec<f32> = values.iter().skip(k).step_by(self.cols).copied().collect();
                col.typed::<FloatType>().write_batch(&v, None, None)?;
            } else {
                match &self.extras[k - self.cols].values {
                    ExtraValues::Int64(v) => {
                        col.typed::<Int64Type>()
                            .write_batch(&v[from..to], None, None)?;
                    }
                    ExtraValues::Float64(v) => {
                        col.typed::<DoubleType>()
                            .write_batch(&v[from..to], None, None)?;
                    }
                    ExtraValues::Text(v) => {
                        let bytes: Vec<ByteArray> =
                            v[from..to].iter().map(|s| s.as_str().into()).collect();
                        col.typed::<ByteArrayType>()
                            .write_batch(&bytes, None, None)?;
                    }
                }
            }
            col.close()?;
            k += 1;
        }
        group.close()?;
        self.written = to;
        Ok(())
    }

    /// Writes the footer.
    pub(super) fn finish(self) -> Result<(), ParquetError> {
        self.writer.close().map(|_| ())
    }
}
