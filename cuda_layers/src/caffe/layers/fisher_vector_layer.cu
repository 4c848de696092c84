#include <vector>

#include "caffe/layers/fisher_vector_layer.hpp"
#include "caffe/util/fvvae_math.hpp"
#include "caffe/util/math_functions.hpp"

namespace caffe {

template <typename Dtype>
__global__ void InvVarFromLogSigmaKernel(const int n, const Dtype* log_sigma,
    Dtype* inv_var) {
  CUDA_KERNEL_LOOP(c, n) { inv_var[c] = exp(Dtype(-2) * log_sigma[c]); }
}

template <typename Dtype>
__global__ void FvResidualKernel(const int count, const int channels,
    const int inner, const Dtype* x, const Dtype* mu, const Dtype* inv_var,
    Dtype* g) {
  CUDA_KERNEL_LOOP(i, count) {
    g[i] = fvvae::fv_residual(x[i], mu[i], inv_var[(i / inner) % channels]);
  }
}

// [z; 1] for every set: copies z and appends a row of ones.
template <typename Dtype>
__global__ void AugmentLatentKernel(const int count, const int latent,
    const int inner, const Dtype* z, Dtype* zaug) {
  CUDA_KERNEL_LOOP(i, count) {  // i over N x (K+1) x T
    const int per = (latent + 1) * inner;
    const int n = i / per, r = i - n * per;
    zaug[i] = r < latent * inner ? z[n * latent * inner + r] : Dtype(1);
  }
}

// out[n, j] = a[n, j] * s[j]: the FIM scale applied to every set.
template <typename Dtype>
__global__ void ScaleRowsKernel(const int count, const int dim,
    const Dtype* a, const Dtype* s, Dtype* out) {
  CUDA_KERNEL_LOOP(i, count) { out[i] = a[i] * s[i % dim]; }
}

// Drops the bias row of d[z; 1].
template <typename Dtype>
__global__ void LatentGradKernel(const int count, const int latent,
    const int inner, const Dtype* d_zaug, Dtype* z_diff) {
  CUDA_KERNEL_LOOP(i, count) {  // i over N x K x T
    const int per = latent * inner;
    const int n = i / per;
    z_diff[i] = d_zaug[n * (latent + 1) * inner + (i - n * per)];
  }
}

template <typename Dtype>
__global__ void ResidualGradKernel(const int count, const int channels,
    const int inner, const Dtype* d_g, const Dtype* mu, const Dtype* inv_var,
    Dtype* x_diff, Dtype* mu_diff) {
  CUDA_KERNEL_LOOP(i, count) {
    const Dtype d = mu[i] > Dtype(0)
        ? d_g[i] * inv_var[(i / inner) % channels] : Dtype(0);
    if (mu_diff) mu_diff[i] = d;
    if (x_diff) x_diff[i] = -d;
  }
}

template <typename Dtype>
void FisherVectorLayer<Dtype>::Forward_gpu(const vector<Blob<Dtype>*>& bottom,
    const vector<Blob<Dtype>*>& top) {
  Dtype* inv_var = inv_var_.mutable_gpu_data();
  // NOLINT_NEXT_LINE(whitespace/operators)
  InvVarFromLogSigmaKernel<Dtype><<<CAFFE_GET_BLOCKS(channels_), CAFFE_CUDA_NUM_THREADS>>>(
      channels_, this->blobs_[0]->gpu_data(), inv_var);
  const int count = bottom[0]->count();
  Dtype* g = residual_.mutable_gpu_data();
  // NOLINT_NEXT_LINE(whitespace/operators)
  FvResidualKernel<Dtype><<<CAFFE_GET_BLOCKS(count), CAFFE_CUDA_NUM_THREADS>>>(
      count, channels_, inner_, bottom[0]->gpu_data(), bottom[1]->gpu_data(),
      inv_var, g);
  Dtype* zaug = zaug_.mutable_gpu_data();
  const int zcount = zaug_.count();
  // NOLINT_NEXT_LINE(whitespace/operators)
  AugmentLatentKernel<Dtype><<<CAFFE_GET_BLOCKS(zcount), CAFFE_CUDA_NUM_THREADS>>>(
      zcount, latent_, inner_, bottom[2]->gpu_data(), zaug);
  CUDA_POST_KERNEL_CHECK;
  Dtype* raw = raw_.mutable_gpu_data();
  for (int s = 0; s < sets_; ++s) {  // eq. 11 summed over the set's t
    fvvae_gpu_gemm_ld<Dtype>(CblasNoTrans, CblasTrans, channels_, latent_ + 1,
        set_len_, Dtype(1), g + g_offset(s), ld_, zaug + zaug_offset(s), ld_,
        Dtype(0), raw + s * fv_dim_, latent_ + 1);
  }
  const int fcount = top[0]->count();
  // NOLINT_NEXT_LINE(whitespace/operators)
  ScaleRowsKernel<Dtype><<<CAFFE_GET_BLOCKS(fcount), CAFFE_CUDA_NUM_THREADS>>>(
      fcount, fv_dim_, raw, this->blobs_[1]->gpu_data(),
      top[0]->mutable_gpu_data());
  CUDA_POST_KERNEL_CHECK;
}

template <typename Dtype>
void FisherVectorLayer<Dtype>::Backward_gpu(const vector<Blob<Dtype>*>& top,
    const vector<bool>& propagate_down, const vector<Blob<Dtype>*>& bottom) {
  const Dtype* top_diff = top[0]->gpu_diff();
  if (this->param_propagate_down_[1]) {
    fvvae_channel_dot_gpu(sets_, fv_dim_, 1, top_diff, raw_.gpu_data(),
                          Dtype(1), this->blobs_[1]->mutable_gpu_diff());
  }
  if (bottom.size() > 3 && propagate_down[3]) {  // only its shape is used
    caffe_gpu_set(bottom[3]->count(), Dtype(0), bottom[3]->mutable_gpu_diff());
  }
  const bool need_dg = propagate_down[0] || propagate_down[1]
      || this->param_propagate_down_[0];
  if (!need_dg && !propagate_down[2]) return;
  Dtype* d_raw = raw_.mutable_gpu_diff();
  const int fcount = top[0]->count();
  // NOLINT_NEXT_LINE(whitespace/operators)
  ScaleRowsKernel<Dtype><<<CAFFE_GET_BLOCKS(fcount), CAFFE_CUDA_NUM_THREADS>>>(
      fcount, fv_dim_, top_diff, this->blobs_[1]->gpu_data(), d_raw);
  CUDA_POST_KERNEL_CHECK;
  const Dtype* g = residual_.gpu_data();
  const Dtype* zaug = zaug_.gpu_data();
  const int k1 = latent_ + 1;
  if (propagate_down[2]) {
    Dtype* d_zaug = zaug_.mutable_gpu_diff();
    for (int s = 0; s < sets_; ++s) {
      fvvae_gpu_gemm_ld<Dtype>(CblasTrans, CblasNoTrans, k1, set_len_,
          channels_, Dtype(1), d_raw + s * fv_dim_, k1, g + g_offset(s), ld_,
          Dtype(0), d_zaug + zaug_offset(s), ld_);
    }
    const int zcount = bottom[2]->count();
    // NOLINT_NEXT_LINE(whitespace/operators)
    LatentGradKernel<Dtype><<<CAFFE_GET_BLOCKS(zcount), CAFFE_CUDA_NUM_THREADS>>>(
        zcount, latent_, inner_, d_zaug, bottom[2]->mutable_gpu_diff());
    CUDA_POST_KERNEL_CHECK;
  }
  if (!need_dg) return;
  Dtype* d_g = residual_.mutable_gpu_diff();
  for (int s = 0; s < sets_; ++s) {
    fvvae_gpu_gemm_ld<Dtype>(CblasNoTrans, CblasNoTrans, channels_, set_len_,
        k1, Dtype(1), d_raw + s * fv_dim_, k1, zaug + zaug_offset(s), ld_,
        Dtype(0), d_g + g_offset(s), ld_);
  }
  const int count = bottom[0]->count();
  // NOLINT_NEXT_LINE(whitespace/operators)
  ResidualGradKernel<Dtype><<<CAFFE_GET_BLOCKS(count), CAFFE_CUDA_NUM_THREADS>>>(
      count, channels_, inner_, d_g, bottom[1]->gpu_data(), inv_var_.gpu_data(),
      propagate_down[0] ? bottom[0]->mutable_gpu_diff() : NULL,
      propagate_down[1] ? bottom[1]->mutable_gpu_diff() : NULL);
  CUDA_POST_KERNEL_CHECK;
  if (this->param_propagate_down_[0]) {
    Dtype* dot = inv_var_.mutable_gpu_diff();
    fvvae_channel_dot_gpu(num_, channels_, inner_, d_g, g, Dtype(0), dot);
    caffe_gpu_axpy(channels_, Dtype(-2), dot,
                   this->blobs_[0]->mutable_gpu_diff());
  }
}

INSTANTIATE_LAYER_GPU_FUNCS(FisherVectorLayer);

}  // namespace caffe
