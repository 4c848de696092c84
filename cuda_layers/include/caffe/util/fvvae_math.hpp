#ifndef CAFFE_UTIL_FVVAE_MATH_HPP_
#define CAFFE_UTIL_FVVAE_MATH_HPP_

// Per-element arithmetic of the FV-VAE layers, written once as
// __host__ __device__ functions: the CPU paths (and so the CPU tests) run the
// very code the CUDA kernels run. Equation numbers refer to Qiu, Yao, Mei,
// "Deep Quantization: Encoding Convolutional Activations with Deep Generative
// Model", CVPR 2017.

#include <cmath>

#include "caffe/util/math_functions.hpp"

#ifdef __CUDACC__
#define FVVAE_HD __host__ __device__
#else
#define FVVAE_HD
#endif

namespace caffe {
namespace fvvae {

template <typename Dtype>
FVVAE_HD inline Dtype sqrt_(Dtype v) {
#ifdef __CUDA_ARCH__
  return sqrt(v);
#else
  return std::sqrt(v);
#endif
}

// Algorithm 1, line 7: the reparameterised sample z = mu + eps * sigma.
template <typename Dtype>
FVVAE_HD inline Dtype gaussian_sample(Dtype mu, Dtype eps, Dtype sigma) {
  return mu + eps * sigma;
}

// Algorithm 1, line 10, the sigma part of L_reg for one latent dimension and
// one descriptor: 1/2 sigma^2 - 1/2 (1 + log sigma^2), with sigma^2 given.
template <typename Dtype>
FVVAE_HD inline Dtype kl_sigma_term(Dtype sigma_sq, Dtype log_sigma) {
  return Dtype(0.5) * sigma_sq - Dtype(0.5) - log_sigma;
}

// Its derivative with respect to log sigma: sigma^2 - 1.
template <typename Dtype>
FVVAE_HD inline Dtype kl_sigma_grad(Dtype sigma_sq) {
  return sigma_sq - Dtype(1);
}

// Algorithm 1, line 9, the data part of -log N(x; mu, sigma^2) for one
// element: (x - mu)^2 / (2 sigma^2). The log sigma + 1/2 log(2 pi) part does
// not depend on x or mu and is added per channel.
template <typename Dtype>
FVVAE_HD inline Dtype half_sq_residual(Dtype x, Dtype mu, Dtype inv_var) {
  const Dtype r = x - mu;
  return Dtype(0.5) * r * r * inv_var;
}

// d L_rec / d mu for one element: (mu - x) / sigma^2.
template <typename Dtype>
FVVAE_HD inline Dtype rec_grad_mu(Dtype x, Dtype mu, Dtype inv_var) {
  return (mu - x) * inv_var;
}

// d L_rec / d log sigma for one element: 1 - (x - mu)^2 / sigma^2.
template <typename Dtype>
FVVAE_HD inline Dtype rec_grad_log_sigma(Dtype x, Dtype mu, Dtype inv_var) {
  const Dtype r = x - mu;
  return Dtype(1) - r * r * inv_var;
}

// Eq. 11: the per-element factor of the Fisher score,
// (mu_x - x) / sigma_x^2 masked by the decoder's ReLU (mu_x > 0).
template <typename Dtype>
FVVAE_HD inline Dtype fv_residual(Dtype x, Dtype mu, Dtype inv_var) {
  return mu > Dtype(0) ? (mu - x) * inv_var : Dtype(0);
}

// y = sign(x) sqrt(|x|), the signed square root of the classifier stage.
template <typename Dtype>
FVVAE_HD inline Dtype signed_sqrt(Dtype x) {
  return x >= Dtype(0) ? sqrt_(x) : -sqrt_(-x);
}

// dy/dx = 1 / (2 sqrt(|x| + eps)), written with the output y (y^2 = |x|) so
// that the layer can run in place; finite at x = 0.
template <typename Dtype>
FVVAE_HD inline Dtype signed_sqrt_grad(Dtype y, Dtype eps) {
  return Dtype(0.5) / sqrt_(y * y + eps);
}

}  // namespace fvvae

// Reductions over descriptor sets laid out N x C x T (T = every axis after
// the channel axis). out[c] = beta * out[c] + sum_{n,t} a[n,c,t] * b[n,c,t];
// b may be NULL, meaning ones.
template <typename Dtype>
void fvvae_channel_dot_cpu(int num, int channels, int inner, const Dtype* a,
    const Dtype* b, Dtype beta, Dtype* out);
template <typename Dtype>
void fvvae_channel_dot_gpu(int num, int channels, int inner, const Dtype* a,
    const Dtype* b, Dtype beta, Dtype* out);

// out[n * inner + s] = sum_c a[n,c,s] * b[n,c,s], one value per position s of
// each sample (with inner = 1 and channels = C*H*W: one value per sample).
template <typename Dtype>
void fvvae_position_dot_cpu(int num, int channels, int inner, const Dtype* a,
    const Dtype* b, Dtype* out);
template <typename Dtype>
void fvvae_position_dot_gpu(int num, int channels, int inner, const Dtype* a,
    const Dtype* b, Dtype* out);

// Row-major C = alpha op(A) op(B) + beta C with explicit leading dimensions
// (caffe_cpu_gemm / caffe_gpu_gemm assume packed matrices): a descriptor set
// inside the columns layout is a C x T block of a C x (N T) matrix.
template <typename Dtype>
void fvvae_cpu_gemm_ld(CBLAS_TRANSPOSE trans_a, CBLAS_TRANSPOSE trans_b, int m,
    int n, int k, Dtype alpha, const Dtype* a, int lda, const Dtype* b, int ldb,
    Dtype beta, Dtype* c, int ldc);
template <typename Dtype>
void fvvae_gpu_gemm_ld(CBLAS_TRANSPOSE trans_a, CBLAS_TRANSPOSE trans_b, int m,
    int n, int k, Dtype alpha, const Dtype* a, int lda, const Dtype* b, int ldb,
    Dtype beta, Dtype* c, int ldc);

// Descriptor sets N x C x T and the same descriptors as the columns of one
// C x (N T) matrix: columns[c, n * T + t] = sets[n, c, t]. On the columns the
// encoder's and decoder's 1x1 convolutions are one large product per layer
// instead of N small ones.
template <typename Dtype>
void fvvae_sets_to_columns_cpu(int num, int channels, int inner,
    const Dtype* sets, Dtype* columns);
template <typename Dtype>
void fvvae_columns_to_sets_cpu(int num, int channels, int inner,
    const Dtype* columns, Dtype* sets);
template <typename Dtype>
void fvvae_sets_to_columns_gpu(int num, int channels, int inner,
    const Dtype* sets, Dtype* columns);
template <typename Dtype>
void fvvae_columns_to_sets_gpu(int num, int channels, int inner,
    const Dtype* columns, Dtype* sets);

}  // namespace caffe

#endif  // CAFFE_UTIL_FVVAE_MATH_HPP_
