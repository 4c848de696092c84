#include <vector>

#include "caffe/layers/columns_to_sets_layer.hpp"
#include "caffe/util/fvvae_checks.hpp"
#include "caffe/util/fvvae_math.hpp"
#include "caffe/util/math_functions.hpp"

namespace caffe {

template <typename Dtype>
void ColumnsToSetsLayer<Dtype>::Reshape(const vector<Blob<Dtype>*>& bottom,
    const vector<Blob<Dtype>*>& top) {
  const LayerParameter& p = this->layer_param_;
  fvvae_check_descriptor_set(p, "columns", *bottom[0]);
  fvvae_check_descriptor_set(p, "reference set", *bottom[1]);
  num_ = bottom[1]->shape(0);
  inner_ = bottom[1]->count(2);
  channels_ = bottom[0]->shape(1);
  CHECK(bottom[0]->shape(0) == 1
        && bottom[0]->count(2) == static_cast<long long>(num_) * inner_)
      << fvvae_layer_id(p) << ": columns " << bottom[0]->shape_string()
      << " must be 1 x C x 1 x (N T) for the reference set "
      << bottom[1]->shape_string() << " (N = " << num_ << ", T = " << inner_
      << ")";
  vector<int> shape = bottom[1]->shape();
  shape[1] = channels_;
  top[0]->Reshape(shape);
}

template <typename Dtype>
void ColumnsToSetsLayer<Dtype>::Forward_cpu(const vector<Blob<Dtype>*>& bottom,
    const vector<Blob<Dtype>*>& top) {
  fvvae_columns_to_sets_cpu(num_, channels_, inner_, bottom[0]->cpu_data(),
                            top[0]->mutable_cpu_data());
}

template <typename Dtype>
void ColumnsToSetsLayer<Dtype>::Backward_cpu(const vector<Blob<Dtype>*>& top,
    const vector<bool>& propagate_down, const vector<Blob<Dtype>*>& bottom) {
  if (propagate_down[0]) {
    fvvae_sets_to_columns_cpu(num_, channels_, inner_, top[0]->cpu_diff(),
                              bottom[0]->mutable_cpu_diff());
  }
  if (propagate_down[1]) {  // only the reference's shape is used
    caffe_set(bottom[1]->count(), Dtype(0), bottom[1]->mutable_cpu_diff());
  }
}

#ifdef CPU_ONLY
STUB_GPU(ColumnsToSetsLayer);
#endif

INSTANTIATE_CLASS(ColumnsToSetsLayer);
REGISTER_LAYER_CLASS(ColumnsToSets);

}  // namespace caffe
