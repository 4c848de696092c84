#ifndef CAFFE_NORMALIZE_LAYER_HPP_
#define CAFFE_NORMALIZE_LAYER_HPP_

#include <vector>

#include "caffe/blob.hpp"
#include "caffe/layer.hpp"
#include "caffe/proto/caffe.pb.h"

namespace caffe {

/**
 * @brief L2-normalises activations and multiplies by a fixed scale:
 *        @f$ y = s \, x / \sqrt{\sum x^2 + \epsilon} @f$.
 *
 * With across_spatial (the default) the sum runs over the whole C x H x W map
 * of each sample: the authors normalise each frame's pool5 map this way and
 * use s = 158 (about sqrt(7*7*512), unit RMS per element). Without it, over
 * the C channels at each spatial position (each descriptor on its own, the
 * paper's section 5.2 text). Bottom and top: N x C x H x W (any axes after
 * C). Can run in place: the backward pass uses only the top.
 */
template <typename Dtype>
class NormalizeLayer : public Layer<Dtype> {
 public:
  explicit NormalizeLayer(const LayerParameter& param)
      : Layer<Dtype>(param) {}
  virtual void LayerSetUp(const vector<Blob<Dtype>*>& bottom,
      const vector<Blob<Dtype>*>& top);
  virtual void Reshape(const vector<Blob<Dtype>*>& bottom,
      const vector<Blob<Dtype>*>& top);

  virtual inline const char* type() const { return "Normalize"; }
  virtual inline int ExactNumBottomBlobs() const { return 1; }
  virtual inline int ExactNumTopBlobs() const { return 1; }

 protected:
  virtual void Forward_cpu(const vector<Blob<Dtype>*>& bottom,
      const vector<Blob<Dtype>*>& top);
  virtual void Forward_gpu(const vector<Blob<Dtype>*>& bottom,
      const vector<Blob<Dtype>*>& top);
  virtual void Backward_cpu(const vector<Blob<Dtype>*>& top,
      const vector<bool>& propagate_down, const vector<Blob<Dtype>*>& bottom);
  virtual void Backward_gpu(const vector<Blob<Dtype>*>& top,
      const vector<bool>& propagate_down, const vector<Blob<Dtype>*>& bottom);

  bool across_spatial_;
  Dtype scale_, eps_;
  // Geometry of the groups normalised together: num_ x (channels_ values at
  // stride inner_) for each of the inner_ positions.
  int num_, channels_, inner_;
  Blob<Dtype> norm_;  // data: the norm of each group; diff: y . dy per group
};

}  // namespace caffe

#endif  // CAFFE_NORMALIZE_LAYER_HPP_
