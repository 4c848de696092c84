#include <vector>

#include "caffe/layers/sets_to_columns_layer.hpp"
#include "caffe/util/fvvae_math.hpp"

namespace caffe {

template <typename Dtype>
void SetsToColumnsLayer<Dtype>::Forward_gpu(const vector<Blob<Dtype>*>& bottom,
    const vector<Blob<Dtype>*>& top) {
  fvvae_sets_to_columns_gpu(num_, channels_, inner_, bottom[0]->gpu_data(),
                            top[0]->mutable_gpu_data());
}

template <typename Dtype>
void SetsToColumnsLayer<Dtype>::Backward_gpu(const vector<Blob<Dtype>*>& top,
    const vector<bool>& propagate_down, const vector<Blob<Dtype>*>& bottom) {
  if (!propagate_down[0]) return;
  fvvae_columns_to_sets_gpu(num_, channels_, inner_, top[0]->gpu_diff(),
                            bottom[0]->mutable_gpu_diff());
}

INSTANTIATE_LAYER_GPU_FUNCS(SetsToColumnsLayer);

}  // namespace caffe
