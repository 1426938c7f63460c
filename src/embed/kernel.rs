//! The encoder's arithmetic: 8-bit integer matrix products (AVX-512 VNNI or AVX2 where the
//! processor has them, plain loops elsewhere, all three giving the same sums), layer
//! normalisation and GELU.

/// Weights of one linear layer, `rows × cols`, one `i8` per weight and one scale per row.
pub struct Linear {
    pub rows: usize,
    pub cols: usize,
    weights: Vec<i8>,
    /// Each row's weights summed: what the unsigned activations of the VNNI path add (128 ×).
    sums: Vec<i32>,
    scales: Vec<f32>,
    bias: Vec<f32>,
}

impl Linear {
    /// A layer from its weights in `f32`, row by row (each weight rounded to 127 steps of its
    /// row's largest).
    pub fn new(rows: usize, cols: usize, dense: &[f32], bias: Vec<f32>) -> Self {
        assert_eq!(dense.len(), rows * cols);
        assert_eq!(bias.len(), rows);
        assert!(
            cols.is_multiple_of(16) && cols <= MAX_COLS,
            "columns come in whole SIMD lanes"
        );
        let mut weights = Vec::with_capacity(rows * cols);
        let mut scales = Vec::with_capacity(rows);
        for row in dense.chunks_exact(cols) {
            let max = row.iter().fold(0f32, |m, w| m.max(w.abs()));
            let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
            weights.extend(
                row.iter()
                    .map(|w| round(w / scale).clamp(-127.0, 127.0) as i8),
            );
            scales.push(scale);
        }
        let sums = weights
            .chunks_exact(cols)
            .map(|row| row.iter().map(|&w| w as i32).sum())
            .collect();
        Self {
            rows,
            cols,
            weights,
            sums,
            scales,
            bias,
        }
    }

    /// `out[t] = self · x[t] + bias` for each of the `x.tokens` rows of `x`.
    pub fn apply(&self, x: &Quantized, out: &mut [f32]) {
        assert_eq!(x.cols, self.cols);
        assert_eq!(out.len(), x.tokens * self.rows);
        #[cfg(target_arch = "x86_64")]
        if self.cols.is_multiple_of(64)
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vnni")
        {
            // SAFETY: the processor has AVX-512 BW and VNNI (checked just above).
            unsafe { avx512::apply(self, x, out) };
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor has AVX2 (checked just above).
            unsafe { avx2::apply(self, x, out) };
            return;
        }
        self.apply_portable(x, out);
    }

    fn apply_portable(&self, x: &Quantized, out: &mut [f32]) {
        for t in 0..x.tokens {
            let a = x.row(t);
            for r in 0..self.rows {
                let w = &self.weights[r * self.cols..(r + 1) * self.cols];
                let dot: i32 = w.iter().zip(a).map(|(&w, &a)| w as i32 * a as i32).sum();
                out[t * self.rows + r] = self.finish(r, dot, x.scales[t]);
            }
        }
    }

    #[inline]
    fn finish(&self, row: usize, dot: i32, scale: f32) -> f32 {
        dot as f32 * self.scales[row] * scale + self.bias[row]
    }
}

/// Largest activation after rounding: one signed byte. Per token, the layer norm's outliers
/// cost the rest some precision: embeddings stay within 0.999 of the 4-bit reference's cosine
/// (0.9998 with 13 bits, at twice the time), and retrieval is the same.
const ACT_MAX: f32 = 127.0;
/// Widest row: 4096 products of two signed bytes stay far inside 32 bits.
pub const MAX_COLS: usize = 4096;

/// Activations of `tokens` rows, each rounded to signed bytes with one scale per row.
pub struct Quantized {
    tokens: usize,
    cols: usize,
    values: Vec<i8>,
    /// `values` + 128, for the VNNI instruction that takes one unsigned operand.
    #[cfg(target_arch = "x86_64")]
    shifted: Vec<u8>,
    scales: Vec<f32>,
}

impl Quantized {
    pub fn new(x: &[f32], cols: usize) -> Self {
        let tokens = x.len() / cols;
        let mut values = Vec::with_capacity(x.len());
        let mut scales = Vec::with_capacity(tokens);
        for row in x.chunks_exact(cols) {
            let max = row.iter().fold(0f32, |m, v| m.max(v.abs()));
            let scale = if max > 0.0 { max / ACT_MAX } else { 1.0 };
            let inv = 1.0 / scale;
            values.extend(
                row.iter()
                    .map(|v| (v * inv + 0.5f32.copysign(*v)).clamp(-127.0, 127.0) as i8),
            );
            scales.push(scale);
        }
        Self {
            tokens,
            cols,
            #[cfg(target_arch = "x86_64")]
            shifted: values.iter().map(|&v| (v as i16 + 128) as u8).collect(),
            values,
            scales,
        }
    }

    fn row(&self, t: usize) -> &[i8] {
        &self.values[t * self.cols..(t + 1) * self.cols]
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{Linear, Quantized};
    use std::arch::x86_64::*;

    /// Two weight rows against up to four tokens at a time: each weight is widened once and
    /// used four times, each activation loaded once for two rows.
    #[target_feature(enable = "avx2")]
    pub unsafe fn apply(layer: &Linear, x: &Quantized, out: &mut [f32]) {
        let cols = layer.cols;
        let mut r = 0;
        while r < layer.rows {
            let pair = (layer.rows - r).min(2);
            let mut t = 0;
            while t < x.tokens {
                let tokens = (x.tokens - t).min(4);
                let mut acc = [[_mm256_setzero_si256(); 4]; 2];
                let mut k = 0;
                while k < cols {
                    for (i, acc) in acc.iter_mut().enumerate().take(pair) {
                        // SAFETY: k + 16 <= cols, so the 16 bytes lie inside the row.
                        let w = unsafe {
                            _mm256_cvtepi8_epi16(_mm_loadu_si128(
                                layer.weights.as_ptr().add((r + i) * cols + k) as *const __m128i,
                            ))
                        };
                        for (j, acc) in acc.iter_mut().enumerate().take(tokens) {
                            // SAFETY: as above, 16 values of the token's row.
                            let a = unsafe {
                                _mm256_cvtepi8_epi16(_mm_loadu_si128(
                                    x.values.as_ptr().add((t + j) * cols + k) as *const __m128i,
                                ))
                            };
                            *acc = _mm256_add_epi32(*acc, _mm256_madd_epi16(w, a));
                        }
                    }
                    k += 16;
                }
                for (i, acc) in acc.iter().enumerate().take(pair) {
                    for (j, acc) in acc.iter().enumerate().take(tokens) {
                        let dot = hsum(*acc);
                        out[(t + j) * layer.rows + r + i] =
                            layer.finish(r + i, dot, x.scales[t + j]);
                    }
                }
                t += 4;
            }
            r += 2;
        }
    }

    #[target_feature(enable = "avx2")]
    fn hsum(v: __m256i) -> i32 {
        let s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b01_00_11_10));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b10_11_00_01));
        _mm_cvtsi128_si32(s)
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::{Linear, Quantized};
    use std::arch::x86_64::*;

    /// Four weight rows against up to four tokens at a time, 64 products per instruction:
    /// VNNI multiplies unsigned by signed bytes, so the activations go in shifted by 128 and
    /// 128 times the row's weight sum comes off.
    #[target_feature(enable = "avx512bw,avx512vnni")]
    pub unsafe fn apply(layer: &Linear, x: &Quantized, out: &mut [f32]) {
        const ROWS: usize = 4;
        const TOKENS: usize = 4;
        let cols = layer.cols;
        let mut r = 0;
        while r < layer.rows {
            let rows = (layer.rows - r).min(ROWS);
            let mut t = 0;
            while t < x.tokens {
                let tokens = (x.tokens - t).min(TOKENS);
                let mut acc = [[_mm512_setzero_si512(); TOKENS]; ROWS];
                let mut k = 0;
                while k < cols {
                    let mut w = [_mm512_setzero_si512(); ROWS];
                    for (i, w) in w.iter_mut().enumerate().take(rows) {
                        // SAFETY: k + 64 <= cols (cols is a multiple of 64): inside the row.
                        *w = unsafe {
                            _mm512_loadu_si512(
                                layer.weights.as_ptr().add((r + i) * cols + k) as *const _
                            )
                        };
                    }
                    for j in 0..tokens {
                        // SAFETY: as above, 64 values of the token's row.
                        let a = unsafe {
                            _mm512_loadu_si512(
                                x.shifted.as_ptr().add((t + j) * cols + k) as *const _
                            )
                        };
                        for (acc, &w) in acc.iter_mut().zip(&w).take(rows) {
                            acc[j] = _mm512_dpbusd_epi32(acc[j], a, w);
                        }
                    }
                    k += 64;
                }
                for (i, acc) in acc.iter().enumerate().take(rows) {
                    for (j, acc) in acc.iter().enumerate().take(tokens) {
                        let dot = _mm512_reduce_add_epi32(*acc) - 128 * layer.sums[r + i];
                        out[(t + j) * layer.rows + r + i] =
                            layer.finish(r + i, dot, x.scales[t + j]);
                    }
                }
                t += TOKENS;
            }
            r += ROWS;
        }
    }
}

/// `x[t] = layer_norm(x[t] + y[t])` for every token (`y` none: of `x` alone).
pub fn add_layer_norm(x: &mut [f32], y: Option<&[f32]>, weight: &[f32], bias: &[f32], eps: f32) {
    let h = weight.len();
    for (t, row) in x.chunks_exact_mut(h).enumerate() {
        if let Some(y) = y {
            for (v, add) in row.iter_mut().zip(&y[t * h..(t + 1) * h]) {
                *v += add;
            }
        }
        let mean = row.iter().sum::<f32>() / h as f32;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / h as f32;
        let inv = 1.0 / (var + eps).sqrt();
        for ((v, w), b) in row.iter_mut().zip(weight).zip(bias) {
            *v = (*v - mean) * inv * w + b;
        }
    }
}

/// GELU with the error function, as the model was trained with; the error function by
/// Abramowitz and Stegun's 7.1.26 (within 1.5e-7), which the compiler can vectorise.
pub fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152_1 + t * 1.061_405_4))));
    (1.0 - poly * (-a * a).exp()).copysign(x)
}

/// `v` rounded half away from zero to an integer, without a library call.
#[inline]
fn round(v: f32) -> f32 {
    (v + 0.5f32.copysign(v)).trunc()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_match_plain_arithmetic_within_rounding() {
        // 48 columns take the AVX2 path, 128 the AVX-512 one where the processor has them.
        for cols in [48, 128] {
            products_match(cols);
        }
    }

    fn products_match(cols: usize) {
        let (rows, tokens) = (7, 5);
        let w: Vec<f32> = (0..rows * cols)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 40.0)
            .collect();
        let x: Vec<f32> = (0..tokens * cols)
            .map(|i| ((i * 53 % 89) as f32 - 44.0) / 9.0)
            .collect();
        let bias: Vec<f32> = (0..rows).map(|r| r as f32 / 10.0).collect();
        let layer = Linear::new(rows, cols, &w, bias.clone());
        let q = Quantized::new(&x, cols);
        let mut fast = vec![0.0; tokens * rows];
        layer.apply(&q, &mut fast);
        let mut plain = vec![0.0; tokens * rows];
        layer.apply_portable(&q, &mut plain);
        for t in 0..tokens {
            for r in 0..rows {
                let products = (0..cols).map(|k| w[r * cols + k] * x[t * cols + k]);
                let exact = products.clone().sum::<f32>() + bias[r];
                // Rounding errs by a fraction of a percent of the products' magnitudes.
                let magnitude: f32 = products.map(f32::abs).sum();
                let (f, p) = (fast[t * rows + r], plain[t * rows + r]);
                assert_eq!(f, p, "SIMD and plain loops agree exactly");
                assert!((f - exact).abs() < 0.005 * magnitude, "{f} vs {exact}");
            }
        }
    }

    #[test]
    fn layer_norm_centres_and_scales() {
        let mut x = vec![1.0, 2.0, 3.0, 4.0];
        add_layer_norm(&mut x, None, &[1.0; 4], &[0.0; 4], 1e-12);
        assert!(x.iter().sum::<f32>().abs() < 1e-5);
        assert!((x.iter().map(|v| v * v).sum::<f32>() / 4.0 - 1.0).abs() < 1e-4);
        for (x, exact) in [(1.0, 0.841_344_7), (-0.5, -0.154_268_5), (3.0, 2.995_950_3)] {
            assert!((gelu(x) - exact).abs() < 1e-5, "gelu({x}) = {}", gelu(x));
        }
    }
}
