#include <vector>

#include "caffe/layers/gaussian_reconstruction_loss_layer.hpp"
#include "caffe/util/fvvae_math.hpp"
#include "caffe/util/math_functions.hpp"

namespace caffe {

template <typename Dtype>
__global__ void HalfSqResidualKernel(const int count, const int channels,
    const int inner, const Dtype* x, const Dtype* mu, const Dtype* inv_var,
    Dtype* out) {
  CUDA_KERNEL_LOOP(i, count) {
    out[i] = fvvae::half_sq_residual(x[i], mu[i],
                                     inv_var[(i / inner) % channels]);
  }
}

template <typename Dtype>
__global__ void RecGradKernel(const int count, const int channels,
    const int inner, const Dtype scale, const Dtype* x, const Dtype* mu,
    const Dtype* inv_var, Dtype* x_diff, Dtype* mu_diff, Dtype* sigma_terms) {
  CUDA_KERNEL_LOOP(i, count) {
    const Dtype iv = inv_var[(i / inner) % channels];
    const Dtype g = scale * fvvae::rec_grad_mu(x[i], mu[i], iv);
    if (mu_diff) mu_diff[i] = g;
    if (x_diff) x_diff[i] = -g;
    if (sigma_terms) {
      sigma_terms[i] = scale * fvvae::rec_grad_log_sigma(x[i], mu[i], iv);
    }
  }
}

template <typename Dtype>
void GaussianReconstructionLossLayer<Dtype>::Forward_gpu(
    const vector<Blob<Dtype>*>& bottom, const vector<Blob<Dtype>*>& top) {
  const Dtype log_part = PrepareSigma();
  const int count = bottom[0]->count();
  Dtype* terms = scratch_.mutable_gpu_data();
  // NOLINT_NEXT_LINE(whitespace/operators)
  HalfSqResidualKernel<Dtype><<<CAFFE_GET_BLOCKS(count), CAFFE_CUDA_NUM_THREADS>>>(
      count, channels_, inner_, bottom[0]->gpu_data(), bottom[1]->gpu_data(),
      inv_var_.gpu_data(), terms);
  CUDA_POST_KERNEL_CHECK;
  Dtype data_part;
  caffe_gpu_asum(count, terms, &data_part);  // every term is >= 0
  top[0]->mutable_cpu_data()[0] = (data_part + log_part) / normalizer_;
}

template <typename Dtype>
void GaussianReconstructionLossLayer<Dtype>::Backward_gpu(
    const vector<Blob<Dtype>*>& top, const vector<bool>& propagate_down,
    const vector<Blob<Dtype>*>& bottom) {
  const Dtype scale = top[0]->cpu_diff()[0] / normalizer_;
  const int count = bottom[0]->count();
  Dtype* x_diff = propagate_down[0] ? bottom[0]->mutable_gpu_diff() : NULL;
  Dtype* mu_diff = propagate_down[1] ? bottom[1]->mutable_gpu_diff() : NULL;
  Dtype* sigma_terms =
      this->param_propagate_down_[0] ? scratch_.mutable_gpu_diff() : NULL;
  // NOLINT_NEXT_LINE(whitespace/operators)
  RecGradKernel<Dtype><<<CAFFE_GET_BLOCKS(count), CAFFE_CUDA_NUM_THREADS>>>(
      count, channels_, inner_, scale, bottom[0]->gpu_data(),
      bottom[1]->gpu_data(), inv_var_.gpu_data(), x_diff, mu_diff,
      sigma_terms);
  CUDA_POST_KERNEL_CHECK;
  if (sigma_terms) {
    fvvae_channel_dot_gpu<Dtype>(num_, channels_, inner_, sigma_terms, NULL,
        Dtype(1), this->blobs_[0]->mutable_gpu_diff());
  }
}

INSTANTIATE_LAYER_GPU_FUNCS(GaussianReconstructionLossLayer);

}  // namespace caffe
