#include <vector>

#include "caffe/layers/sets_to_columns_layer.hpp"
#include "caffe/util/fvvae_checks.hpp"
#include "caffe/util/fvvae_math.hpp"

namespace caffe {

template <typename Dtype>
void SetsToColumnsLayer<Dtype>::Reshape(const vector<Blob<Dtype>*>& bottom,
    const vector<Blob<Dtype>*>& top) {
  fvvae_check_descriptor_set(this->layer_param_, "x", *bottom[0]);
  num_ = bottom[0]->shape(0);
  channels_ = bottom[0]->shape(1);
  inner_ = bottom[0]->count(2);
  vector<int> shape(4, 1);
  shape[1] = channels_;
  shape[3] = num_ * inner_;
  top[0]->Reshape(shape);
}

template <typename Dtype>
void SetsToColumnsLayer<Dtype>::Forward_cpu(const vector<Blob<Dtype>*>& bottom,
    const vector<Blob<Dtype>*>& top) {
  fvvae_sets_to_columns_cpu(num_, channels_, inner_, bottom[0]->cpu_data(),
                            top[0]->mutable_cpu_data());
}

template <typename Dtype>
void SetsToColumnsLayer<Dtype>::Backward_cpu(const vector<Blob<Dtype>*>& top,
    const vector<bool>& propagate_down, const vector<Blob<Dtype>*>& bottom) {
  if (!propagate_down[0]) return;
  fvvae_columns_to_sets_cpu(num_, channels_, inner_, top[0]->cpu_diff(),
                            bottom[0]->mutable_cpu_diff());
}

#ifdef CPU_ONLY
STUB_GPU(SetsToColumnsLayer);
#endif

INSTANTIATE_CLASS(SetsToColumnsLayer);
REGISTER_LAYER_CLASS(SetsToColumns);

}  // namespace caffe
