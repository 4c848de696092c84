#ifndef CAFFE_SIGNED_SQRT_LAYER_HPP_
#define CAFFE_SIGNED_SQRT_LAYER_HPP_

#include <vector>

#include "caffe/blob.hpp"
#include "caffe/layer.hpp"
#include "caffe/layers/neuron_layer.hpp"
#include "caffe/proto/caffe.pb.h"

namespace caffe {

/**
 * @brief The signed square root @f$ y = \mathrm{sign}(x) \sqrt{|x|} @f$ applied
 *        to every representation before the L2 normalisation and the SVM
 *        (paper section 5.2).
 *
 * Backward: @f$ dx = dy / (2 \sqrt{y^2 + \epsilon}) @f$ (y^2 = |x|), finite at
 * x = 0 and computed from the top, so the layer can run in place.
 */
template <typename Dtype>
class SignedSqrtLayer : public NeuronLayer<Dtype> {
 public:
  explicit SignedSqrtLayer(const LayerParameter& param)
      : NeuronLayer<Dtype>(param) {}
  virtual inline const char* type() const { return "SignedSqrt"; }

 protected:
  virtual void Forward_cpu(const vector<Blob<Dtype>*>& bottom,
      const vector<Blob<Dtype>*>& top);
  virtual void Forward_gpu(const vector<Blob<Dtype>*>& bottom,
      const vector<Blob<Dtype>*>& top);
  virtual void Backward_cpu(const vector<Blob<Dtype>*>& top,
      const vector<bool>& propagate_down, const vector<Blob<Dtype>*>& bottom);
  virtual void Backward_gpu(const vector<Blob<Dtype>*>& top,
      const vector<bool>& propagate_down, const vector<Blob<Dtype>*>& bottom);
};

}  // namespace caffe

#endif  // CAFFE_SIGNED_SQRT_LAYER_HPP_
