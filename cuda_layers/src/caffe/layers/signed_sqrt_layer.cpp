#include <vector>

#include "caffe/layers/signed_sqrt_layer.hpp"
#include "caffe/util/fvvae_math.hpp"

namespace caffe {

template <typename Dtype>
void SignedSqrtLayer<Dtype>::Forward_cpu(const vector<Blob<Dtype>*>& bottom,
    const vector<Blob<Dtype>*>& top) {
  const Dtype* x = bottom[0]->cpu_data();
  Dtype* y = top[0]->mutable_cpu_data();
  const int count = bottom[0]->count();
  for (int i = 0; i < count; ++i) y[i] = fvvae::signed_sqrt(x[i]);
}

template <typename Dtype>
void SignedSqrtLayer<Dtype>::Backward_cpu(const vector<Blob<Dtype>*>& top,
    const vector<bool>& propagate_down, const vector<Blob<Dtype>*>& bottom) {
  if (!propagate_down[0]) return;
  const Dtype eps = this->layer_param_.signed_sqrt_param().eps();
  const Dtype* y = top[0]->cpu_data();
  const Dtype* dy = top[0]->cpu_diff();
  Dtype* dx = bottom[0]->mutable_cpu_diff();
  const int count = bottom[0]->count();
  for (int i = 0; i < count; ++i) {
    dx[i] = dy[i] * fvvae::signed_sqrt_grad(y[i], eps);
  }
}

#ifdef CPU_ONLY
STUB_GPU(SignedSqrtLayer);
#endif

INSTANTIATE_CLASS(SignedSqrtLayer);
REGISTER_LAYER_CLASS(SignedSqrt);

}  // namespace caffe
