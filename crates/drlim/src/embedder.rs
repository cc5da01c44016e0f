//! A trained model prepared for many embedding calls on the fast CPU path: its weights are
//! converted once (an MLP's input normalisation folded into its first layer) and the nets of
//! one call are kept for the next, so that a call of a few samples costs their forward pass
//! and not the preparation (about 1 ms for an MLP 784-256-256-2, as much as the pass itself).

use std::sync::{Mutex, PoisonError};

use burn::module::Module;
use rayon::prelude::*;

use crate::embed::{embed_fast, FAST_EMBED_ROWS};
use crate::error::Result;
use crate::fast::{self, FastNet, FastWeights, MlpWeights};
use crate::mapping::Model;
use crate::model::{Architecture, InputSpec};
use crate::Dataset;

/// A model's mapping on the fast CPU path, for repeated calls ([`Model::embed`] makes one
/// per call). Each sample's coordinates are those `Model::embed` gives, whatever it is
/// embedded with and whatever the thread count.
pub struct Embedder {
    arch: Architecture,
    input: InputSpec,
    weights: FastWeights,
    /// Whether the samples go in as they are (an MLP with its normalisation folded in), or
    /// are normalised (and padded for the convnet) a pass at a time.
    raw: bool,
    /// Nets of earlier passes, lent to the next ones.
    spare: Mutex<Vec<Box<dyn FastNet>>>,
}

impl Embedder {
    /// The model prepared for the fast path; `None` where the fast path does not serve the
    /// model's device (embed with [`Model::embed`] there).
    pub fn new(model: &Model) -> Option<Self> {
        if !fast::serves(&model.device()) {
            return None;
        }
        let net = model.net.valid();
        let (arch, input) = (&model.config.architecture, &model.config.input);
        let folded = match arch {
            Architecture::Mlp { .. } if input.metric.is_euclidean() => MlpWeights::from_net(&net)
                .map(|w| FastWeights::Mlp(w.with_normalisation_folded(&input.normalisation))),
            _ => None,
        };
        Some(Self {
            arch: arch.clone(),
            input: input.clone(),
            raw: folded.is_some(),
            weights: folded.unwrap_or_else(|| FastWeights::of(&net)),
            spare: Mutex::new(Vec::new()),
        })
    }

    /// Output dimension d.
    pub fn dim(&self) -> usize {
        self.arch.dim()
    }

    /// Maps the samples of `data` to `data.n × d` coordinates, as [`Model::embed`] does.
    pub fn embed(&self, data: &Dataset) -> Result<Vec<f32>> {
        self.embed_held(Held::of(data), &data.shape, &data.origin)
    }

    /// Maps samples of `shape` held in `values` (row-major), as [`Model::embed_rows`] does.
    pub fn embed_rows(&self, values: &[f32], shape: &[usize], origin: &str) -> Result<Vec<f32>> {
        self.embed_held(Held::Floats(values), shape, origin)
    }

    /// Passes of at most [`FAST_EMBED_ROWS`] rows, as many at a time as there are threads,
    /// each on one thread (a call of 256 samples on two threads: two passes of 128); a single
    /// pass runs on the calling thread, which need not be one of rayon's. Each pass's rows are
    /// read as floats, checked, normalised and padded while they are in cache; no prepared
    /// copy of the whole input is made.
    pub(crate) fn embed_held(&self, held: Held, shape: &[usize], origin: &str) -> Result<Vec<f32>> {
        self.run(&self.call(held, shape, origin, rayon::current_num_threads())?)
    }

    /// [`embed_rows`](Self::embed_rows) on `pool`'s threads, called from outside them; a call
    /// of a single pass runs on the calling thread instead, which saves the hand-over to the
    /// pool and back (tens of µs). Running the first of a few passes on the calling thread
    /// while the pool runs the others was slower on two cores (the pool's idle thread spins
    /// while the two others work: 256 samples in 921 µs against 732, medians of 9 rounds).
    pub fn embed_rows_on(
        &self,
        pool: &rayon::ThreadPool,
        values: &[f32],
        shape: &[usize],
        origin: &str,
    ) -> Result<Vec<f32>> {
        let call = self.call(
            Held::Floats(values),
            shape,
            origin,
            pool.current_num_threads(),
        )?;
        if call.passes() <= 1 {
            return self.run(&call);
        }
        pool.install(|| self.run(&call))
    }

    /// The passes of `call`: a single one on the calling thread, more on rayon's threads.
    fn run(&self, call: &Call) -> Result<Vec<f32>> {
        if call.passes() <= 1 {
            return self.pass(call, 0);
        }
        let blocks: Vec<Vec<f32>> = (0..call.passes())
            .into_par_iter()
            .map_init(|| self.kit(), |kit, b| self.pass_with(call, b, kit))
            .collect::<Result<_>>()?;
        Ok(blocks.concat())
    }

    /// The samples of a call, checked against the model's input, and its passes on `threads`
    /// threads.
    fn call<'a>(
        &self,
        held: Held<'a>,
        shape: &'a [usize],
        origin: &'a str,
        threads: usize,
    ) -> Result<Call<'a>> {
        let dim = self.input.check_size(held.len(), shape, origin)?;
        let n = held.len() / dim;
        Ok(Call {
            held,
            shape,
            origin,
            dim,
            n,
            rows: pass_rows(n, threads),
        })
    }

    /// Pass `b` of `call` with a net and buffers of its own.
    fn pass(&self, call: &Call, b: usize) -> Result<Vec<f32>> {
        self.pass_with(call, b, &mut self.kit())
    }

    /// Pass `b` of `call` with `kit`'s net and buffers.
    fn pass_with(&self, call: &Call, b: usize, (net, buf, floats): &mut Kit) -> Result<Vec<f32>> {
        let (dim, rows) = (call.dim, call.rows);
        let (first, end) = (b * rows, ((b + 1) * rows).min(call.n));
        let block = call.held.floats(first * dim..end * dim, floats);
        let rows = self.prepare(block, [dim, first], call.shape, call.origin, buf)?;
        Ok(embed_fast(net.net(), rows, self.arch.input_dim()))
    }

    /// A net and buffers for one thread's passes.
    fn kit(&self) -> Kit<'_> {
        (self.lend(), Vec::new(), Vec::new())
    }

    /// A pass's rows (samples of `dim` values, the first being sample `first`) as the net
    /// takes them: checked finite (raw), or normalised into `buf`.
    fn prepare<'a>(
        &self,
        block: &'a [f32],
        [dim, first]: [usize; 2],
        shape: &[usize],
        origin: &str,
        buf: &'a mut Vec<f32>,
    ) -> Result<&'a [f32]> {
        if self.raw {
            crate::data::check_finite(block, dim, first, origin)?;
            return Ok(block);
        }
        self.input
            .prepare_block_into(&self.arch, block, shape, origin, first, buf)
    }

    /// A net for one thread's passes: a spare one, or a new one.
    fn lend(&self) -> Lent<'_> {
        let spare = self
            .spare
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let net = spare.unwrap_or_else(|| self.weights.embedding_net(1));
        Lent {
            net: Some(net),
            spare: &self.spare,
        }
    }
}

/// Fewest rows worth a pass of their own on another thread (waking one costs about as much
/// as embedding a few samples).
const MIN_PASS_ROWS: usize = 8;

/// Rows per pass for `n` samples on `threads` threads: passes of at most [`FAST_EMBED_ROWS`],
/// and at least one per thread where each gets [`MIN_PASS_ROWS`].
fn pass_rows(n: usize, threads: usize) -> usize {
    let passes = n
        .div_ceil(FAST_EMBED_ROWS)
        .max((n / MIN_PASS_ROWS).clamp(1, threads.max(1)));
    n.div_ceil(passes).max(1)
}

/// The samples of one call and how they are cut into passes.
struct Call<'a> {
    held: Held<'a>,
    shape: &'a [usize],
    origin: &'a str,
    /// Values per sample.
    dim: usize,
    n: usize,
    /// Rows per pass.
    rows: usize,
}

impl Call<'_> {
    fn passes(&self) -> usize {
        self.n.div_ceil(self.rows)
    }
}

/// A lent net and the buffers of a thread's passes (normalised rows, rows read as floats).
type Kit<'a> = (Lent<'a>, Vec<f32>, Vec<f32>);

/// A net lent for a share of the passes, given back when the share is done.
struct Lent<'a> {
    net: Option<Box<dyn FastNet>>,
    spare: &'a Mutex<Vec<Box<dyn FastNet>>>,
}

impl Lent<'_> {
    fn net(&mut self) -> &mut dyn FastNet {
        &mut **self.net.as_mut().expect("lent until dropped")
    }
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        if let Some(net) = self.net.take() {
            self.spare
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(net);
        }
    }
}

/// Samples to embed as they are held: f32 values, or bytes read as floats a pass at a time.
#[derive(Clone, Copy)]
pub(crate) enum Held<'a> {
    Floats(&'a [f32]),
    Bytes(&'a [u8]),
}

impl<'a> Held<'a> {
    /// The samples of `data`.
    pub(crate) fn of(data: &'a Dataset) -> Self {
        match data.samples() {
            crate::data::Samples::Floats(v) => Held::Floats(v),
            crate::data::Samples::Bytes(b) => Held::Bytes(b),
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Held::Floats(v) => v.len(),
            Held::Bytes(b) => b.len(),
        }
    }

    /// The values in `range` as f32: borrowed, or converted into `buf`.
    pub(crate) fn floats<'b>(
        &'b self,
        range: std::ops::Range<usize>,
        buf: &'b mut Vec<f32>,
    ) -> &'b [f32] {
        match self {
            Held::Floats(v) => &v[range],
            Held::Bytes(b) => {
                buf.clear();
                buf.extend(b[range].iter().map(|&v| f32::from(v)));
                buf
            }
        }
    }
}
