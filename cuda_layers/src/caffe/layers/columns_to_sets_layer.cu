#include <vector>

#include "caffe/layers/columns_to_sets_layer.hpp"
#include "caffe/util/fvvae_math.hpp"
#include "caffe/util/math_functions.hpp"

namespace caffe {

template <typename Dtype>
void ColumnsToSetsLayer<Dtype>::Forward_gpu(const vector<Blob<Dtype>*>& bottom,
    const vector<Blob<Dtype>*>& top) {
  fvvae_columns_to_sets_gpu(num_, channels_, inner_, bottom[0]->gpu_data(),
                            top[0]->mutable_gpu_data());
}

template <typename Dtype>
void ColumnsToSetsLayer<Dtype>::Backward_gpu(const vector<Blob<Dtype>*>& top,
    const vector<bool>& propagate_down, const vector<Blob<Dtype>*>& bottom) {
  if (propagate_down[0]) {
    fvvae_sets_to_columns_gpu(num_, channels_, inner_, top[0]->gpu_diff(),
                              bottom[0]->mutable_gpu_diff());
  }
  if (propagate_down[1]) {
    caffe_gpu_set(bottom[1]->count(), Dtype(0), bottom[1]->mutable_gpu_diff());
  }
}

INSTANTIATE_LAYER_GPU_FUNCS(ColumnsToSetsLayer);

}  // namespace caffe
