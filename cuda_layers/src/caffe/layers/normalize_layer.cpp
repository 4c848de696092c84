#include <cmath>
#include <vector>

#include "caffe/layers/normalize_layer.hpp"
#include "caffe/util/fvvae_checks.hpp"
#include "caffe/util/fvvae_math.hpp"
#include "caffe/util/math_functions.hpp"

namespace caffe {

template <typename Dtype>
void NormalizeLayer<Dtype>::LayerSetUp(const vector<Blob<Dtype>*>& bottom,
    const vector<Blob<Dtype>*>& top) {
  const NormalizeParameter& p = this->layer_param_.normalize_param();
  across_spatial_ = p.across_spatial();
  scale_ = p.scale();
  eps_ = p.eps();
  CHECK_GT(scale_, 0) << fvvae_layer_id(this->layer_param_)
      << ": scale must be positive";
}

template <typename Dtype>
void NormalizeLayer<Dtype>::Reshape(const vector<Blob<Dtype>*>& bottom,
    const vector<Blob<Dtype>*>& top) {
  CHECK_GE(bottom[0]->num_axes(), 2) << fvvae_layer_id(this->layer_param_)
      << ": bottom " << bottom[0]->shape_string() << " needs N x C (x ...)";
  CHECK_GT(bottom[0]->count(), 0) << fvvae_layer_id(this->layer_param_)
      << ": bottom " << bottom[0]->shape_string() << " is empty";
  num_ = bottom[0]->shape(0);
  channels_ = across_spatial_ ? bottom[0]->count(1) : bottom[0]->shape(1);
  inner_ = across_spatial_ ? 1 : bottom[0]->count(2);
  top[0]->ReshapeLike(*bottom[0]);
  norm_.Reshape(vector<int>(1, num_ * inner_));
}

template <typename Dtype>
void NormalizeLayer<Dtype>::Forward_cpu(const vector<Blob<Dtype>*>& bottom,
    const vector<Blob<Dtype>*>& top) {
  const Dtype* x = bottom[0]->cpu_data();
  Dtype* norm = norm_.mutable_cpu_data();
  fvvae_position_dot_cpu(num_, channels_, inner_, x, x, norm);
  for (int g = 0; g < norm_.count(); ++g) norm[g] = std::sqrt(norm[g] + eps_);
  Dtype* y = top[0]->mutable_cpu_data();
  const int count = bottom[0]->count();
  for (int i = 0; i < count; ++i) {
    const int g = (i / (channels_ * inner_)) * inner_ + i % inner_;
    y[i] = scale_ * x[i] / norm[g];
  }
}

template <typename Dtype>
void NormalizeLayer<Dtype>::Backward_cpu(const vector<Blob<Dtype>*>& top,
    const vector<bool>& propagate_down, const vector<Blob<Dtype>*>& bottom) {
  if (!propagate_down[0]) return;
  // dx = s/|x| dy - y (y . dy) / (s |x|), with |x| = sqrt(sum x^2 + eps).
  const Dtype* y = top[0]->cpu_data();
  const Dtype* dy = top[0]->cpu_diff();
  const Dtype* norm = norm_.cpu_data();
  Dtype* ydy = norm_.mutable_cpu_diff();
  fvvae_position_dot_cpu(num_, channels_, inner_, y, dy, ydy);
  Dtype* dx = bottom[0]->mutable_cpu_diff();
  const int count = bottom[0]->count();
  for (int i = 0; i < count; ++i) {
    const int g = (i / (channels_ * inner_)) * inner_ + i % inner_;
    dx[i] = (scale_ * dy[i] - y[i] * ydy[g] / scale_) / norm[g];
  }
}

#ifdef CPU_ONLY
STUB_GPU(NormalizeLayer);
#endif

INSTANTIATE_CLASS(NormalizeLayer);
REGISTER_LAYER_CLASS(Normalize);

}  // namespace caffe
