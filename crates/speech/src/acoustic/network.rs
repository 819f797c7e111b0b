//! hama's phone recogniser, computed here: a log-mel front end, a
//! convolution that halves the frame rate, four Conformer blocks (d = 144,
//! four attention heads) and a projection onto the phone vocabulary with a
//! log-softmax. Its shipped engine (`libhama.so`) computes the same graph
//! one multiply at a time; here every layer is a matrix product
//! (`ndarray`, SIMD kernels chosen for the CPU at run time), which makes it
//! several times faster (BENCHMARKS.md, "The phone recogniser in Rust").
//! `tests/acoustic_parity.rs` checks it against the shipped engine.

use ndarray::{Array1, Array2, ArrayViewMut1, Axis, s};

use super::package::Package;

const N_FFT: usize = 400;
const HOP: usize = 160;
const N_FREQ: usize = 201;
const N_MEL: usize = 80;
const D: usize = 144;
const HEADS: usize = 4;
const HEAD: usize = D / HEADS;
const FF: usize = 576;
const KERNEL: usize = 31;
const BLOCKS: usize = 4;
const LN_EPS: f32 = 1e-5;

struct LayerNorm {
    weight: Array1<f32>,
    bias: Array1<f32>,
}

/// `x · weight + bias`, `weight` as [inputs, outputs].
struct Linear {
    weight: Array2<f32>,
    bias: Array1<f32>,
}

struct FeedForward {
    norm: LayerNorm,
    up: Linear,
    down: Linear,
}

struct Attention {
    norm: LayerNorm,
    qkv: Linear,
    out: Linear,
}

struct ConvModule {
    norm: LayerNorm,
    pointwise_in: Linear,
    /// [channels, taps]
    depthwise: Array2<f32>,
    depthwise_bias: Array1<f32>,
    pointwise_out: Linear,
}

struct Block {
    ffn1: FeedForward,
    attention: Attention,
    conv: ConvModule,
    ffn2: FeedForward,
    norm: LayerNorm,
}

pub(crate) struct Network {
    /// The STFT as a matrix: [N_FFT, 2 × N_FREQ], real parts then imaginary.
    dft: Array2<f32>,
    /// [N_FREQ, N_MEL]
    mel: Array2<f32>,
    /// The stem convolution as a matrix over three stacked frames.
    stem: Linear,
    blocks: Vec<Block>,
    proj: Linear,
    pub(crate) vocab_size: usize,
}

fn array1(package: &Package, name: &str, len: usize) -> Result<Array1<f32>, String> {
    Ok(Array1::from(package.tensor(name, &[len])?.data.clone()))
}

/// A matrix stored [rows, cols] (an ONNX MatMul operand: [inputs, outputs]).
fn matrix(package: &Package, name: &str, rows: usize, cols: usize) -> Result<Array2<f32>, String> {
    let data = package.tensor(name, &[rows, cols])?.data.clone();
    Array2::from_shape_vec((rows, cols), data).map_err(|e| e.to_string())
}

/// A 1-wide convolution [outputs, inputs, 1] as [inputs, outputs].
fn pointwise(
    package: &Package,
    name: &str,
    outputs: usize,
    inputs: usize,
) -> Result<Linear, String> {
    let data = package
        .tensor(&format!("{name}.weight"), &[outputs, inputs, 1])?
        .data
        .clone();
    let weight = Array2::from_shape_vec((outputs, inputs), data).map_err(|e| e.to_string())?;
    Ok(Linear {
        weight: weight.reversed_axes().as_standard_layout().into_owned(),
        bias: array1(package, &format!("{name}.bias"), outputs)?,
    })
}

fn layer_norm(package: &Package, name: &str) -> Result<LayerNorm, String> {
    Ok(LayerNorm {
        weight: array1(package, &format!("{name}.weight"), D)?,
        bias: array1(package, &format!("{name}.bias"), D)?,
    })
}

fn onnx(n: usize) -> String {
    format!("onnx::MatMul_{n}")
}

impl Network {
    pub(crate) fn load(package: &Package) -> Result<Self, String> {
        let re = matrix_3d(package, "stft_real_kernel", N_FREQ, N_FFT)?;
        let im = matrix_3d(package, "stft_imag_kernel", N_FREQ, N_FFT)?;
        let dft = ndarray::concatenate(Axis(0), &[re.view(), im.view()])
            .map_err(|e| e.to_string())?
            .reversed_axes()
            .as_standard_layout()
            .into_owned();
        let mel = matrix(package, "mel_fb", N_FREQ, N_MEL)?;
        // The stem's weight [D, N_MEL, 3] read as [D, N_MEL × 3]: input
        // row (mel, tap) of the stacked frames.
        let stem = {
            let data = package
                .tensor("onnx::Conv_801", &[D, N_MEL, 3])?
                .data
                .clone();
            let weight = Array2::from_shape_vec((D, N_MEL * 3), data).map_err(|e| e.to_string())?;
            Linear {
                weight: weight.reversed_axes().as_standard_layout().into_owned(),
                bias: array1(package, "onnx::Conv_802", D)?,
            }
        };
        let mut blocks = Vec::with_capacity(BLOCKS);
        for i in 0..BLOCKS {
            let prefix = format!("acoustic_model.model.blocks.{i}");
            // The exporter numbered each block's matrices in this order.
            let first = 829 + 9 * i;
            let feed_forward =
                |which: &str, up: usize, down: usize| -> Result<FeedForward, String> {
                    Ok(FeedForward {
                        norm: layer_norm(package, &format!("{prefix}.{which}.norm"))?,
                        up: Linear {
                            weight: matrix(package, &onnx(up), D, FF)?,
                            bias: array1(package, &format!("{prefix}.{which}.fc1.bias"), FF)?,
                        },
                        down: Linear {
                            weight: matrix(package, &onnx(down), FF, D)?,
                            bias: array1(package, &format!("{prefix}.{which}.fc2.bias"), D)?,
                        },
                    })
                };
            let depthwise = {
                let name = format!("onnx::Conv_{}", 804 + 3 * i);
                let data = package.tensor(&name, &[D, 1, KERNEL])?.data.clone();
                Array2::from_shape_vec((D, KERNEL), data).map_err(|e| e.to_string())?
            };
            blocks.push(Block {
                ffn1: feed_forward("ffn1", first, first + 1)?,
                attention: Attention {
                    norm: layer_norm(package, &format!("{prefix}.attn_norm"))?,
                    qkv: Linear {
                        weight: matrix(package, &onnx(first + 2), D, 3 * D)?,
                        bias: array1(package, &format!("{prefix}.attn.in_proj_bias"), 3 * D)?,
                    },
                    out: Linear {
                        weight: matrix(package, &onnx(first + 6), D, D)?,
                        bias: array1(package, &format!("{prefix}.attn.out_proj.bias"), D)?,
                    },
                },
                conv: ConvModule {
                    norm: layer_norm(package, &format!("{prefix}.conv.norm"))?,
                    pointwise_in: pointwise(
                        package,
                        &format!("{prefix}.conv.pointwise1"),
                        2 * D,
                        D,
                    )?,
                    depthwise,
                    depthwise_bias: array1(package, &format!("onnx::Conv_{}", 805 + 3 * i), D)?,
                    pointwise_out: pointwise(package, &format!("{prefix}.conv.pointwise2"), D, D)?,
                },
                ffn2: feed_forward("ffn2", first + 7, first + 8)?,
                norm: layer_norm(package, &format!("{prefix}.norm"))?,
            });
        }
        let vocab_size = package.vector_len("acoustic_model.model.proj.bias")?;
        let proj = pointwise(package, "acoustic_model.model.proj", vocab_size, D)?;
        Ok(Self {
            dft,
            mel,
            stem,
            blocks,
            proj,
            vocab_size,
        })
    }

    /// Audio samples per output frame (a 160-sample hop, halved).
    pub(crate) const SAMPLES_PER_FRAME: usize = 2 * HOP;

    /// Output frames for `samples` samples: one per 320, and one more.
    pub(crate) fn frames(samples: usize) -> usize {
        (samples / HOP) / 2 + 1
    }

    /// Log-posteriors [frames, vocabulary] of 16 kHz mono audio (at least
    /// 640 samples).
    pub(crate) fn run(&self, samples: &[f32]) -> Array2<f32> {
        let features = self.log_mel(samples);
        let mut x = self.stem_of(&features);
        for block in &self.blocks {
            block.apply(&mut x);
        }
        let mut logits = self.proj.apply(&x);
        for row in logits.rows_mut() {
            log_softmax(row);
        }
        logits
    }

    /// [STFT frames, N_MEL]: the power spectrum of 400-sample windows every
    /// 160 samples (the signal mirrored at both ends), on the mel scale,
    /// logged; rounded to half precision where the original graph casts.
    fn log_mel(&self, samples: &[f32]) -> Array2<f32> {
        let n = samples.len();
        let pad = N_FFT / 2;
        let mut padded = Vec::with_capacity(n + 2 * pad);
        padded.extend((1..=pad).rev().map(|i| samples[i]));
        padded.extend_from_slice(samples);
        padded.extend((0..pad).map(|j| samples[n - 2 - j]));
        let frames = n / HOP + 1;
        let mut windows = Array2::<f32>::zeros((frames, N_FFT));
        for (t, mut row) in windows.rows_mut().into_iter().enumerate() {
            row.assign(&ndarray::ArrayView1::from(
                &padded[t * HOP..t * HOP + N_FFT],
            ));
        }
        let spectrum = windows.dot(&self.dft);
        let re = spectrum.slice(s![.., ..N_FREQ]);
        let im = spectrum.slice(s![.., N_FREQ..]);
        let power = &re * &re + &im * &im;
        let mut mel = power.dot(&self.mel);
        mel.mapv_inplace(|v| half::f16::from_f32(v.max(1e-10).ln()).to_f32());
        mel
    }

    /// The stem: a 3-tap convolution with stride 2 (zero padding of one
    /// frame), then GELU. [frames, D].
    fn stem_of(&self, features: &Array2<f32>) -> Array2<f32> {
        let frames_in = features.nrows();
        let frames = (frames_in - 1) / 2 + 1;
        let mut stacked = Array2::<f32>::zeros((frames, N_MEL * 3));
        for t in 0..frames {
            for tap in 0..3 {
                let Some(source) = (2 * t + tap).checked_sub(1).filter(|&f| f < frames_in) else {
                    continue;
                };
                for mel in 0..N_MEL {
                    stacked[[t, mel * 3 + tap]] = features[[source, mel]];
                }
            }
        }
        let mut x = self.stem.apply(&stacked);
        x.mapv_inplace(gelu);
        x
    }
}

fn matrix_3d(
    package: &Package,
    name: &str,
    rows: usize,
    cols: usize,
) -> Result<Array2<f32>, String> {
    let data = package.tensor(name, &[rows, 1, cols])?.data.clone();
    Array2::from_shape_vec((rows, cols), data).map_err(|e| e.to_string())
}

impl Linear {
    fn apply(&self, x: &Array2<f32>) -> Array2<f32> {
        let mut y = x.dot(&self.weight);
        y += &self.bias;
        y
    }
}

impl LayerNorm {
    fn apply(&self, x: &Array2<f32>) -> Array2<f32> {
        let mut y = x.clone();
        for mut row in y.rows_mut() {
            let mean = row.sum() / D as f32;
            let variance = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / D as f32;
            let scale = 1.0 / (variance + LN_EPS).sqrt();
            row.zip_mut_with(&self.weight, |v, w| *v = (*v - mean) * scale * w);
            row += &self.bias;
        }
        y
    }
}

impl FeedForward {
    /// x += ½ · FFN(LN(x)), the macaron half-step.
    fn apply(&self, x: &mut Array2<f32>) {
        let mut hidden = self.up.apply(&self.norm.apply(x));
        hidden.mapv_inplace(silu);
        let out = self.down.apply(&hidden);
        x.scaled_add(0.5, &out);
    }
}

impl Attention {
    /// x += MHSA(LN(x)), every frame attending to every other.
    fn apply(&self, x: &mut Array2<f32>) {
        let frames = x.nrows();
        let qkv = self.qkv.apply(&self.norm.apply(x));
        let scale = 1.0 / (HEAD as f32).sqrt();
        let mut context = Array2::<f32>::zeros((frames, D));
        for head in 0..HEADS {
            let at = head * HEAD;
            let q = qkv.slice(s![.., at..at + HEAD]);
            let k = qkv.slice(s![.., D + at..D + at + HEAD]);
            let v = qkv.slice(s![.., 2 * D + at..2 * D + at + HEAD]);
            let mut scores = q.dot(&k.t());
            for mut row in scores.rows_mut() {
                row *= scale;
                softmax(row);
            }
            context
                .slice_mut(s![.., at..at + HEAD])
                .assign(&scores.dot(&v));
        }
        *x += &self.out.apply(&context);
    }
}

impl ConvModule {
    /// x += pointwise(SiLU(depthwise(GLU(pointwise(LN(x)))))).
    fn apply(&self, x: &mut Array2<f32>) {
        let frames = x.nrows();
        let doubled = self.pointwise_in.apply(&self.norm.apply(x));
        let mut gated = doubled.slice(s![.., ..D]).to_owned();
        gated.zip_mut_with(&doubled.slice(s![.., D..]), |a, &g| *a *= sigmoid(g));
        let half = KERNEL / 2;
        let mut conv = Array2::<f32>::zeros((frames, D));
        conv += &self.depthwise_bias;
        for t in 0..frames {
            let first = t.saturating_sub(half);
            let last = (t + half).min(frames - 1);
            let mut out = conv.row_mut(t);
            for source in first..=last {
                let tap = source + half - t;
                let input = gated.row(source);
                let weights = self.depthwise.column(tap);
                ndarray::Zip::from(&mut out)
                    .and(&input)
                    .and(&weights)
                    .for_each(|o, &i, &w| *o += i * w);
            }
        }
        conv.mapv_inplace(silu);
        *x += &self.pointwise_out.apply(&conv);
    }
}

impl Block {
    fn apply(&self, x: &mut Array2<f32>) {
        self.ffn1.apply(x);
        self.attention.apply(x);
        self.conv.apply(x);
        self.ffn2.apply(x);
        *x = self.norm.apply(x);
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

fn silu(x: f32) -> f32 {
    x * sigmoid(x)
}

/// GELU with the exact error function.
fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + libm::erff(x / std::f32::consts::SQRT_2))
}

fn softmax(mut row: ArrayViewMut1<'_, f32>) {
    let max = row.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    row.mapv_inplace(|v| (v - max).exp());
    let sum = row.sum();
    row /= sum;
}

fn log_softmax(mut row: ArrayViewMut1<'_, f32>) {
    let max = row.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let log_sum = row.fold(0.0, |sum, &v| sum + (v - max).exp()).ln() + max;
    row -= log_sum;
}
