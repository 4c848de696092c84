#include <vector>

#include "caffe/layers/l2_normalize_layer.hpp"

namespace caffe {

template <typename Dtype>
void L2NormalizeLayer<Dtype>::LayerSetUp(const vector<Blob<Dtype>*>& bottom,
    const vector<Blob<Dtype>*>& top) {
  this->across_spatial_ = true;
  this->scale_ = Dtype(1);
  this->eps_ = this->layer_param_.l2_normalize_param().eps();
}

INSTANTIATE_CLASS(L2NormalizeLayer);
REGISTER_LAYER_CLASS(L2Normalize);

}  // namespace caffe
