#include <vector>

#include "caffe/layers/gaussian_sample_layer.hpp"
#include "caffe/util/fvvae_math.hpp"
#include "caffe/util/math_functions.hpp"

namespace caffe {

template <typename Dtype>
__global__ void SigmaFromLogKernel(const int n, const Dtype* log_sigma,
    Dtype* sigma) {
  CUDA_KERNEL_LOOP(k, n) { sigma[k] = exp(log_sigma[k]); }
}

template <typename Dtype>
__global__ void GaussianSampleKernel(const int count, const int latent,
    const int inner, const Dtype* mu, const Dtype* eps, const Dtype* sigma,
    Dtype* z) {
  CUDA_KERNEL_LOOP(i, count) {
    z[i] = fvvae::gaussian_sample(mu[i], eps[i], sigma[(i / inner) % latent]);
  }
}

template <typename Dtype>
__global__ void LogSigmaZGradKernel(const int latent, const bool train,
    const Dtype* sigma, const Dtype* noise_dot, const Dtype reg_weight,
    Dtype* log_sigma_diff) {
  CUDA_KERNEL_LOOP(k, latent) {
    log_sigma_diff[k] += (train ? sigma[k] * noise_dot[k] : Dtype(0))
        + reg_weight * fvvae::kl_sigma_grad(sigma[k] * sigma[k]);
  }
}

template <typename Dtype>
void GaussianSampleLayer<Dtype>::Forward_gpu(
    const vector<Blob<Dtype>*>& bottom, const vector<Blob<Dtype>*>& top) {
  const Dtype* mu = bottom[0]->gpu_data();
  Dtype* sigma = sigma_.mutable_gpu_data();
  // NOLINT_NEXT_LINE(whitespace/operators)
  SigmaFromLogKernel<Dtype><<<CAFFE_GET_BLOCKS(latent_), CAFFE_CUDA_NUM_THREADS>>>(
      latent_, this->blobs_[0]->gpu_data(), sigma);
  Dtype* z = top[0]->mutable_gpu_data();
  const int count = bottom[0]->count();
  if (this->phase_ == TRAIN) {
    Dtype* eps = eps_.mutable_gpu_data();
    caffe_gpu_rng_gaussian<Dtype>(eps_.count(), Dtype(0), Dtype(1), eps);
    // NOLINT_NEXT_LINE(whitespace/operators)
    GaussianSampleKernel<Dtype><<<CAFFE_GET_BLOCKS(count), CAFFE_CUDA_NUM_THREADS>>>(
        count, latent_, inner_, mu, eps, sigma, z);
    CUDA_POST_KERNEL_CHECK;
  } else {
    caffe_copy(count, mu, z);
  }
  if (top.size() > 1) {
    Dtype mu_sq_sum;
    caffe_gpu_dot(count, mu, mu, &mu_sq_sum);
    top[1]->mutable_cpu_data()[0] = RegLoss(mu_sq_sum);
  }
}

template <typename Dtype>
void GaussianSampleLayer<Dtype>::Backward_gpu(const vector<Blob<Dtype>*>& top,
    const vector<bool>& propagate_down, const vector<Blob<Dtype>*>& bottom) {
  const int count = bottom[0]->count();
  const Dtype* top_diff = top[0]->gpu_diff();
  const Dtype reg_scale =
      top.size() > 1 ? top[1]->cpu_diff()[0] / normalizer_ : Dtype(0);
  if (propagate_down[0]) {
    Dtype* bottom_diff = bottom[0]->mutable_gpu_diff();
    caffe_copy(count, top_diff, bottom_diff);
    if (reg_scale != Dtype(0)) {
      caffe_gpu_axpy(count, reg_scale, bottom[0]->gpu_data(), bottom_diff);
    }
  }
  if (this->param_propagate_down_[0]) {
    const bool train = this->phase_ == TRAIN;
    Dtype* noise_dot = sigma_.mutable_gpu_diff();
    if (train) {
      fvvae_channel_dot_gpu(num_, latent_, inner_, top_diff, eps_.gpu_data(),
                            Dtype(0), noise_dot);
    }
    // NOLINT_NEXT_LINE(whitespace/operators)
    LogSigmaZGradKernel<Dtype><<<CAFFE_GET_BLOCKS(latent_), CAFFE_CUDA_NUM_THREADS>>>(
        latent_, train, sigma_.gpu_data(), noise_dot,
        reg_scale * Dtype(num_) * Dtype(inner_),
        this->blobs_[0]->mutable_gpu_diff());
    CUDA_POST_KERNEL_CHECK;
  }
}

INSTANTIATE_LAYER_GPU_FUNCS(GaussianSampleLayer);

}  // namespace caffe
