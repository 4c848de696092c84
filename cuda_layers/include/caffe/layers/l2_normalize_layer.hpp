#ifndef CAFFE_L2_NORMALIZE_LAYER_HPP_
#define CAFFE_L2_NORMALIZE_LAYER_HPP_

#include <vector>

#include "caffe/blob.hpp"
#include "caffe/layers/normalize_layer.hpp"
#include "caffe/proto/caffe.pb.h"

namespace caffe {

/**
 * @brief Per-sample L2 normalisation, @f$ y = x / \sqrt{\sum x^2 + \epsilon}
 *        @f$ over all C x H x W values of each sample: the last step of the
 *        classifier's signed-sqrt + L2 normalisation (paper section 5.2).
 *
 * The special case of Normalize with across_spatial and scale 1; it shares
 * that layer's CPU and CUDA code.
 */
template <typename Dtype>
class L2NormalizeLayer : public NormalizeLayer<Dtype> {
 public:
  explicit L2NormalizeLayer(const LayerParameter& param)
      : NormalizeLayer<Dtype>(param) {}
  virtual void LayerSetUp(const vector<Blob<Dtype>*>& bottom,
      const vector<Blob<Dtype>*>& top);

  virtual inline const char* type() const { return "L2Normalize"; }
};

}  // namespace caffe

#endif  // CAFFE_L2_NORMALIZE_LAYER_HPP_
