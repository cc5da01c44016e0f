//! Dense layers for embedding, y = act(x·Wᵀ + b), with W packed once into panels of columns
//! and a kernel that sums each output over its inputs in one fixed order, whatever the number
//! of rows, the block a row falls in or the thread that runs it. A sample therefore maps to the
//! same bits alone or among thousands, with no padding of small calls to a fixed pass size
//! (the `gemm` crate blocks, and so sums, by the shape of the product).
//!
//! The kernel keeps a block of rows × a panel of outputs in registers and runs down all `k`
//! inputs with fused multiply-adds: AVX-512 (8 rows × 32 outputs), AVX2 with FMA (6 × 16), or
//! plain Rust elsewhere; the choice is made once per machine. A row's inputs are read at fixed
//! offsets from where the row starts, so that a convolution runs as the same kernel over the
//! positions of an image, with no im2col copy: its offsets are those of the filter's taps.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// The instruction set the kernel runs with on this machine.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Isa {
    #[cfg(target_arch = "x86_64")]
    Avx512,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    Plain,
}

impl Isa {
    /// The best instruction set this machine runs.
    fn detect() -> Self {
        Self::available()[0]
    }

    /// Every instruction set this machine runs, best first (the tests try each).
    fn available() -> Vec<Self> {
        let mut all = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx512f") {
                all.push(Isa::Avx512);
            }
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                all.push(Isa::Avx2);
            }
        }
        all.push(Isa::Plain);
        all
    }

    /// Outputs in a full panel: two vectors.
    fn width(self) -> usize {
        match self {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => 2 * <__m512 as Lanes>::L,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => 2 * <__m256 as Lanes>::L,
            Isa::Plain => 2 * <Plain as Lanes>::L,
        }
    }
}

/// A dense layer (`o` outputs of `k` inputs) packed for [`apply`](Packed::apply).
#[derive(Clone, Debug)]
pub struct Packed {
    k: usize,
    o: usize,
    isa: Isa,
    /// Where each of the `k` inputs is read, from where its row starts.
    offsets: Vec<u32>,
    /// Panel after panel: each `k × width` (input-major), a last narrower one of half the
    /// width where the remaining outputs fit it, zeros beyond `o`.
    panels: Vec<f32>,
    /// The bias, zeros beyond `o` to the panels' end.
    bias: Vec<f32>,
}

impl Packed {
    /// The layer of weight `w` (`o × k`, PyTorch layout) and bias `b` (`o`).
    pub fn new(w: &[f32], b: &[f32], [o, k]: [usize; 2]) -> Self {
        Self::for_isa(Isa::detect(), w, b, [o, k])
    }

    fn for_isa(isa: Isa, w: &[f32], b: &[f32], [o, k]: [usize; 2]) -> Self {
        assert!(w.len() == o * k && b.len() == o, "a layer of {o} × {k}");
        let mut panels = Vec::new();
        let mut first = 0;
        while first < o {
            let width = panel_width(isa, o - first);
            for i in 0..k {
                panels
                    .extend((first..first + width).map(|j| if j < o { w[j * k + i] } else { 0.0 }));
            }
            first += width;
        }
        let mut bias = b.to_vec();
        bias.resize(first, 0.0);
        Self {
            k,
            o,
            isa,
            offsets: (0..k as u32).collect(),
            panels,
            bias,
        }
    }

    /// The layer reading input `i` of a row at `offsets[i]` from the row's start: a
    /// convolution's filter taps in its image (`k` = `offsets.len()`).
    pub fn with_offsets(mut self, offsets: Vec<u32>) -> Self {
        assert_eq!(offsets.len(), self.k, "one offset per input");
        self.offsets = offsets;
        self
    }

    /// Outputs per row.
    pub fn outputs(&self) -> usize {
        self.o
    }

    /// `out` (rows × o) = x (rows × k) · Wᵀ + b, through a ReLU if `relu`, for `rows` rows.
    pub fn apply(&self, x: &[f32], rows: usize, out: &mut [f32], relu: bool) {
        self.apply_strided(x, [rows, self.k], out, relu)
    }

    /// [`apply`](Self::apply) for `rows` rows starting `stride` values apart in `x`, each
    /// reading its inputs at the layer's offsets.
    pub fn apply_strided(
        &self,
        x: &[f32],
        [rows, stride]: [usize; 2],
        out: &mut [f32],
        relu: bool,
    ) {
        if rows == 0 {
            return;
        }
        let reach = self.offsets.iter().max().map_or(0, |&m| m as usize + 1);
        assert!(
            x.len() >= (rows - 1) * stride + reach && out.len() >= rows * self.o,
            "apply: {rows} rows of {} inputs and {} outputs",
            self.k,
            self.o
        );
        // SAFETY: the kernels read inputs up to `(rows - 1) * stride + reach` and write
        // `rows × o` outputs, both checked above, with the instruction set detected here.
        unsafe {
            match self.isa {
                #[cfg(target_arch = "x86_64")]
                Isa::Avx512 => apply_avx512(self, x, [rows, stride], out, relu),
                #[cfg(target_arch = "x86_64")]
                Isa::Avx2 => apply_avx2(self, x, [rows, stride], out, relu),
                Isa::Plain => apply_with::<Plain, 4>(self, x, [rows, stride], out, relu),
            }
        }
    }
}

/// The width of the panel that starts with `left` outputs to go: a full one, or half of one
/// where the rest fits in it.
fn panel_width(isa: Isa, left: usize) -> usize {
    let full = isa.width();
    if left <= full / 2 {
        full / 2
    } else {
        full
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn apply_avx512(p: &Packed, x: &[f32], rows: [usize; 2], out: &mut [f32], relu: bool) {
    apply_with::<__m512, 8>(p, x, rows, out, relu)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn apply_avx2(p: &Packed, x: &[f32], rows: [usize; 2], out: &mut [f32], relu: bool) {
    apply_with::<__m256, 6>(p, x, rows, out, relu)
}

/// Blocks of `MR` rows (the last one shorter), each through every panel.
#[inline(always)]
unsafe fn apply_with<V: Lanes, const MR: usize>(
    p: &Packed,
    x: &[f32],
    [rows, stride]: [usize; 2],
    out: &mut [f32],
    relu: bool,
) {
    let (k, o) = (p.k, p.o);
    let mut first = 0;
    while first < rows {
        let r = (rows - first).min(MR);
        let (xs, ys) = (
            x.as_ptr().add(first * stride),
            out.as_mut_ptr().add(first * o),
        );
        let (mut col, mut panel) = (0, p.panels.as_ptr());
        while col < o {
            let width = panel_width(p.isa, o - col);
            let tile = Tile {
                x: xs,
                stride,
                offsets: p.offsets.as_ptr(),
                k,
                panel,
                bias: p.bias.as_ptr().add(col),
                y: ys.add(col),
                o,
                cols: (o - col).min(width),
                relu,
            };
            if width == 2 * V::L {
                rows_of::<V, 2, MR>(tile, r);
            } else {
                rows_of::<V, 1, MR>(tile, r);
            }
            (col, panel) = (col + width, panel.add(k * width));
        }
        first += r;
    }
}

/// One block of rows against one panel: where the rows start, the panel, and where the
/// outputs go.
#[derive(Clone, Copy)]
struct Tile {
    x: *const f32,
    /// From one row's start to the next's.
    stride: usize,
    offsets: *const u32,
    k: usize,
    panel: *const f32,
    bias: *const f32,
    y: *mut f32,
    o: usize,
    /// Outputs of the panel that exist (the rest is padding).
    cols: usize,
    relu: bool,
}

/// [`tile`] for `r` rows (1 to `MR`), each count its own instance: the kernel for a row is the
/// same in each, so a row's outputs do not depend on how many rows share its block.
#[inline(always)]
unsafe fn rows_of<V: Lanes, const NV: usize, const MR: usize>(t: Tile, r: usize) {
    match r {
        1 => tile::<V, NV, 1>(t),
        2 if MR >= 2 => tile::<V, NV, 2>(t),
        3 if MR >= 3 => tile::<V, NV, 3>(t),
        4 if MR >= 4 => tile::<V, NV, 4>(t),
        5 if MR >= 5 => tile::<V, NV, 5>(t),
        6 if MR >= 6 => tile::<V, NV, 6>(t),
        7 if MR >= 7 => tile::<V, NV, 7>(t),
        8 if MR >= 8 => tile::<V, NV, 8>(t),
        _ => unreachable!("blocks of at most {MR} rows"),
    }
}

/// Inputs summed in one run before the run's sum is added to the total: a long sum in one
/// accumulator loses digits (C3's 1,215 inputs were 3.6·10⁻⁵ off a float64 sum where ONNX
/// Runtime's blocked sums were 2·10⁻⁷; in runs of 128, 1.8·10⁻⁶).
const RUN: usize = 128;

/// `R` rows × `NV` vectors of outputs: for each run of [`RUN`] inputs in input order, one fused
/// multiply-add per input from zero, the run's sum added to the total; then the bias and the
/// ReLU.
#[inline(always)]
unsafe fn tile<V: Lanes, const NV: usize, const R: usize>(t: Tile) {
    let mut total = [[V::zero(); NV]; R];
    for start in (0..t.k).step_by(RUN) {
        let mut acc = [[V::zero(); NV]; R];
        for i in start..(start + RUN).min(t.k) {
            let b: [V; NV] =
                std::array::from_fn(|v| V::load(t.panel.add(i * NV * V::L + v * V::L)));
            let at = *t.offsets.add(i) as usize;
            for (r, acc) in acc.iter_mut().enumerate() {
                let a = V::splat(*t.x.add(r * t.stride + at));
                for v in 0..NV {
                    acc[v] = V::fma(a, b[v], acc[v]);
                }
            }
        }
        for (total, acc) in total.iter_mut().zip(&acc) {
            for (t, &a) in total.iter_mut().zip(acc) {
                *t = V::add(*t, a);
            }
        }
    }
    for (r, acc) in total.iter().enumerate() {
        let y = t.y.add(r * t.o);
        for (v, &acc) in acc.iter().enumerate() {
            let sum = V::add(acc, V::load(t.bias.add(v * V::L)));
            let sum = if t.relu { V::relu(sum) } else { sum };
            let cols = t.cols.saturating_sub(v * V::L).min(V::L);
            if cols == V::L {
                V::store(sum, y.add(v * V::L));
            } else if cols > 0 {
                V::store_first(sum, y.add(v * V::L), cols);
            }
        }
    }
}

/// A vector of f32 lanes.
trait Lanes: Copy {
    /// Lanes per vector.
    const L: usize;
    unsafe fn zero() -> Self;
    unsafe fn splat(a: f32) -> Self;
    unsafe fn load(p: *const f32) -> Self;
    unsafe fn store(self, p: *mut f32);
    /// Stores the first `n` lanes (fewer than `L`).
    unsafe fn store_first(self, p: *mut f32, n: usize);
    /// a · b + c, rounded once where the machine fuses them.
    unsafe fn fma(a: Self, b: Self, c: Self) -> Self;
    unsafe fn add(a: Self, b: Self) -> Self;
    unsafe fn relu(a: Self) -> Self;
}

#[cfg(target_arch = "x86_64")]
impl Lanes for __m512 {
    const L: usize = 16;
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn zero() -> Self {
        _mm512_setzero_ps()
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn splat(a: f32) -> Self {
        _mm512_set1_ps(a)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn load(p: *const f32) -> Self {
        _mm512_loadu_ps(p)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn store(self, p: *mut f32) {
        _mm512_storeu_ps(p, self)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn store_first(self, p: *mut f32, n: usize) {
        _mm512_mask_storeu_ps(p, ((1u32 << n) - 1) as u16, self)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn fma(a: Self, b: Self, c: Self) -> Self {
        _mm512_fmadd_ps(a, b, c)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn add(a: Self, b: Self) -> Self {
        _mm512_add_ps(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn relu(a: Self) -> Self {
        _mm512_max_ps(a, _mm512_setzero_ps())
    }
}

#[cfg(target_arch = "x86_64")]
impl Lanes for __m256 {
    const L: usize = 8;
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn zero() -> Self {
        _mm256_setzero_ps()
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn splat(a: f32) -> Self {
        _mm256_set1_ps(a)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn load(p: *const f32) -> Self {
        _mm256_loadu_ps(p)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn store(self, p: *mut f32) {
        _mm256_storeu_ps(p, self)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn store_first(self, p: *mut f32, n: usize) {
        let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        _mm256_maskstore_ps(
            p,
            _mm256_cmpgt_epi32(_mm256_set1_epi32(n as i32), lanes),
            self,
        )
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn fma(a: Self, b: Self, c: Self) -> Self {
        _mm256_fmadd_ps(a, b, c)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn add(a: Self, b: Self) -> Self {
        _mm256_add_ps(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn relu(a: Self) -> Self {
        _mm256_max_ps(a, _mm256_setzero_ps())
    }
}

/// Eight lanes in plain Rust, for machines without the vector units above.
#[derive(Clone, Copy)]
struct Plain([f32; 8]);

impl Lanes for Plain {
    const L: usize = 8;
    unsafe fn zero() -> Self {
        Plain([0.0; 8])
    }
    unsafe fn splat(a: f32) -> Self {
        Plain([a; 8])
    }
    unsafe fn load(p: *const f32) -> Self {
        Plain(std::ptr::read_unaligned(p as *const [f32; 8]))
    }
    unsafe fn store(self, p: *mut f32) {
        std::ptr::write_unaligned(p as *mut [f32; 8], self.0)
    }
    unsafe fn store_first(self, p: *mut f32, n: usize) {
        std::ptr::copy_nonoverlapping(self.0.as_ptr(), p, n)
    }
    unsafe fn fma(a: Self, b: Self, c: Self) -> Self {
        Plain(std::array::from_fn(|j| a.0[j] * b.0[j] + c.0[j]))
    }
    unsafe fn add(a: Self, b: Self) -> Self {
        Plain(std::array::from_fn(|j| a.0[j] + b.0[j]))
    }
    unsafe fn relu(a: Self) -> Self {
        Plain(a.0.map(|v| v.max(0.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(o: usize, k: usize, seed: usize) -> (Vec<f32>, Vec<f32>) {
        let w = (0..o * k)
            .map(|i| ((i * 7919 + seed) % 211) as f32 / 105.5 - 1.0)
            .collect();
        let b = (0..o).map(|j| (j % 5) as f32 * 0.1 - 0.2).collect();
        (w, b)
    }

    /// Outputs match a plain sum to rounding, for output counts on either side of a panel
    /// and row counts on either side of a block, with and without the ReLU, with each
    /// instruction set this machine has.
    #[test]
    fn matches_a_plain_sum() {
        for (isa, (o, k)) in Isa::available().into_iter().flat_map(|isa| {
            [
                (1, 1),
                (2, 30),
                (15, 36),
                (16, 7),
                (17, 9),
                (33, 40),
                (100, 65),
            ]
            .map(|s| (isa, s))
        }) {
            let (w, b) = layer(o, k, o + k);
            let p = Packed::for_isa(isa, &w, &b, [o, k]);
            for rows in [1, 5, 8, 13] {
                let x: Vec<f32> = (0..rows * k).map(|i| (i % 13) as f32 / 6.5 - 1.0).collect();
                for relu in [false, true] {
                    let mut y = vec![f32::NAN; rows * o];
                    p.apply(&x, rows, &mut y, relu);
                    for r in 0..rows {
                        for j in 0..o {
                            let mut want =
                                b[j] + (0..k).map(|i| x[r * k + i] * w[j * k + i]).sum::<f32>();
                            if relu {
                                want = want.max(0.0);
                            }
                            let got = y[r * o + j];
                            assert!(
                                (got - want).abs() <= 1e-4 * (1.0 + want.abs()),
                                "{isa:?}, {o}×{k}, row {r}, out {j}: {got} against {want}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// A long sum keeps the small terms a single accumulator would lose: 10⁴ then 4,095 times
    /// 10⁻⁴ (each below half an ulp of 10⁴, so one accumulator stays at 10⁴).
    #[test]
    fn a_long_sum_keeps_its_small_terms() {
        let k = 4096;
        let x: Vec<f32> = (0..k).map(|i| if i == 0 { 1e4 } else { 1e-4 }).collect();
        for isa in Isa::available() {
            let p = Packed::for_isa(isa, &vec![1.0; k], &[0.0], [1, k]);
            let mut y = [0.0];
            p.apply(&x, 1, &mut y, false);
            let want = 1e4 + 4095.0 * 1e-4;
            // one accumulator: 0.41 off; runs of 128 lose the first run's and round the rest
            assert!(
                (y[0] - want).abs() < 0.05,
                "{isa:?}: {} against {want}",
                y[0]
            );
        }
    }

    /// With offsets, rows `stride` apart read a filter's taps: a convolution, position by
    /// position as a plain sum gives it.
    #[test]
    fn offsets_make_a_convolution() {
        let (side, kw, o) = (10, 3, 5);
        let (w, b) = layer(o, kw * kw, 1);
        let taps = (0..kw * kw)
            .map(|i| ((i / kw) * side + i % kw) as u32)
            .collect();
        let p = Packed::new(&w, &b, [o, kw * kw]).with_offsets(taps);
        let img: Vec<f32> = (0..side * side)
            .map(|i| ((i * 17) % 23) as f32 / 11.5 - 1.0)
            .collect();
        let (y, cols) = (4, side - kw + 1);
        let mut out = vec![0.0; cols * o];
        p.apply_strided(&img[y * side..], [cols, 1], &mut out, false);
        for x in 0..cols {
            for j in 0..o {
                let want = b[j]
                    + (0..kw * kw)
                        .map(|i| img[(y + i / kw) * side + x + i % kw] * w[j * kw * kw + i])
                        .sum::<f32>();
                assert!(
                    (out[x * o + j] - want).abs() < 1e-4,
                    "position {x}, map {j}"
                );
            }
        }
    }

    /// Each row's outputs are the same bits alone, at any place in a block, among any rows,
    /// with each instruction set this machine has.
    #[test]
    fn each_row_maps_alone_as_among_others() {
        for isa in Isa::available() {
            each_row_maps_alone_with(isa);
        }
    }

    fn each_row_maps_alone_with(isa: Isa) {
        let (o, k) = (40, 50);
        let (w, b) = layer(o, k, 3);
        let p = Packed::for_isa(isa, &w, &b, [o, k]);
        let rows = 21;
        let x: Vec<f32> = (0..rows * k)
            .map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0)
            .collect();
        let mut all = vec![0.0; rows * o];
        p.apply(&x, rows, &mut all, true);
        for first in 0..rows {
            for n in [1, 2, 7, rows - first] {
                let n = n.min(rows - first);
                let mut some = vec![0.0; n * o];
                p.apply(&x[first * k..], n, &mut some, true);
                assert_eq!(
                    some,
                    all[first * o..(first + n) * o],
                    "{isa:?}: rows {first}..{}",
                    first + n
                );
            }
        }
    }
}
