#include <vector>

#include "caffe/layers/normalize_layer.hpp"
#include "caffe/util/fvvae_math.hpp"
#include "caffe/util/math_functions.hpp"

namespace caffe {

template <typename Dtype>
__global__ void NormFromSquaresKernel(const int n, const Dtype eps,
    Dtype* norm) {
  CUDA_KERNEL_LOOP(g, n) { norm[g] = fvvae::sqrt_(norm[g] + eps); }
}

template <typename Dtype>
__global__ void NormalizeForwardKernel(const int count, const int channels,
    const int inner, const Dtype scale, const Dtype* x, const Dtype* norm,
    Dtype* y) {
  CUDA_KERNEL_LOOP(i, count) {
    const int g = (i / (channels * inner)) * inner + i % inner;
    y[i] = scale * x[i] / norm[g];
  }
}

template <typename Dtype>
__global__ void NormalizeBackwardKernel(const int count, const int channels,
    const int inner, const Dtype scale, const Dtype* y, const Dtype* dy,
    const Dtype* norm, const Dtype* ydy, Dtype* dx) {
  CUDA_KERNEL_LOOP(i, count) {
    const int g = (i / (channels * inner)) * inner + i % inner;
    dx[i] = (scale * dy[i] - y[i] * ydy[g] / scale) / norm[g];
  }
}

template <typename Dtype>
void NormalizeLayer<Dtype>::Forward_gpu(const vector<Blob<Dtype>*>& bottom,
    const vector<Blob<Dtype>*>& top) {
  const Dtype* x = bottom[0]->gpu_data();
  Dtype* norm = norm_.mutable_gpu_data();
  fvvae_position_dot_gpu(num_, channels_, inner_, x, x, norm);
  const int groups = norm_.count();
  // NOLINT_NEXT_LINE(whitespace/operators)
  NormFromSquaresKernel<Dtype><<<CAFFE_GET_BLOCKS(groups), CAFFE_CUDA_NUM_THREADS>>>(
      groups, eps_, norm);
  const int count = bottom[0]->count();
  // NOLINT_NEXT_LINE(whitespace/operators)
  NormalizeForwardKernel<Dtype><<<CAFFE_GET_BLOCKS(count), CAFFE_CUDA_NUM_THREADS>>>(
      count, channels_, inner_, scale_, x, norm, top[0]->mutable_gpu_data());
  CUDA_POST_KERNEL_CHECK;
}

template <typename Dtype>
void NormalizeLayer<Dtype>::Backward_gpu(const vector<Blob<Dtype>*>& top,
    const vector<bool>& propagate_down, const vector<Blob<Dtype>*>& bottom) {
  if (!propagate_down[0]) return;
  const Dtype* y = top[0]->gpu_data();
  const Dtype* dy = top[0]->gpu_diff();
  Dtype* ydy = norm_.mutable_gpu_diff();
  fvvae_position_dot_gpu(num_, channels_, inner_, y, dy, ydy);
  const int count = bottom[0]->count();
  // NOLINT_NEXT_LINE(whitespace/operators)
  NormalizeBackwardKernel<Dtype><<<CAFFE_GET_BLOCKS(count), CAFFE_CUDA_NUM_THREADS>>>(
      count, channels_, inner_, scale_, y, dy, norm_.gpu_data(), ydy,
      bottom[0]->mutable_gpu_diff());
  CUDA_POST_KERNEL_CHECK;
}

INSTANTIATE_LAYER_GPU_FUNCS(NormalizeLayer);

}  // namespace caffe
