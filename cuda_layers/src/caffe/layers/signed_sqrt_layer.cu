#include <vector>

#include "caffe/layers/signed_sqrt_layer.hpp"
#include "caffe/util/fvvae_math.hpp"

namespace caffe {

template <typename Dtype>
__global__ void SignedSqrtForwardKernel(const int count, const Dtype* x,
    Dtype* y) {
  CUDA_KERNEL_LOOP(i, count) { y[i] = fvvae::signed_sqrt(x[i]); }
}

template <typename Dtype>
__global__ void SignedSqrtBackwardKernel(const int count, const Dtype eps,
    const Dtype* y, const Dtype* dy, Dtype* dx) {
  CUDA_KERNEL_LOOP(i, count) {
    dx[i] = dy[i] * fvvae::signed_sqrt_grad(y[i], eps);
  }
}

template <typename Dtype>
void SignedSqrtLayer<Dtype>::Forward_gpu(const vector<Blob<Dtype>*>& bottom,
    const vector<Blob<Dtype>*>& top) {
  const int count = bottom[0]->count();
  // NOLINT_NEXT_LINE(whitespace/operators)
  SignedSqrtForwardKernel<Dtype><<<CAFFE_GET_BLOCKS(count), CAFFE_CUDA_NUM_THREADS>>>(
      count, bottom[0]->gpu_data(), top[0]->mutable_gpu_data());
  CUDA_POST_KERNEL_CHECK;
}

template <typename Dtype>
void SignedSqrtLayer<Dtype>::Backward_gpu(const vector<Blob<Dtype>*>& top,
    const vector<bool>& propagate_down, const vector<Blob<Dtype>*>& bottom) {
  if (!propagate_down[0]) return;
  const int count = bottom[0]->count();
  const Dtype eps = this->layer_param_.signed_sqrt_param().eps();
  // NOLINT_NEXT_LINE(whitespace/operators)
  SignedSqrtBackwardKernel<Dtype><<<CAFFE_GET_BLOCKS(count), CAFFE_CUDA_NUM_THREADS>>>(
      count, eps, top[0]->gpu_data(), top[0]->gpu_diff(),
      bottom[0]->mutable_gpu_diff());
  CUDA_POST_KERNEL_CHECK;
}

INSTANTIATE_LAYER_GPU_FUNCS(SignedSqrtLayer);

}  // namespace caffe
