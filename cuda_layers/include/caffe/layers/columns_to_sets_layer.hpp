#ifndef CAFFE_COLUMNS_TO_SETS_LAYER_HPP_
#define CAFFE_COLUMNS_TO_SETS_LAYER_HPP_

#include <vector>

#include "caffe/blob.hpp"
#include "caffe/layer.hpp"
#include "caffe/proto/caffe.pb.h"

namespace caffe {

/**
 * @brief Splits descriptor columns back into descriptor sets, the inverse of
 *        SetsToColumns: @f$ y[n, c, t] = x[0, c, 0, n T + t] @f$.
 *
 * Bottom 0: the columns, 1 x C' x 1 x (N T) (C' may differ from the
 *   reference's C: the latent z, the class scores, mu_x).
 * Bottom 1: a reference descriptor set N x C x 1 x T whose N and descriptor
 *   axes the top takes; only its shape is read, so its gradient is zero.
 * Top: N x C' x 1 x T.
 *
 * The layers that need the sets (the FisherVector sum over a set, eq. 11;
 * the max over a set's class scores; the per-set losses of eq. 8) run after
 * this one. Backward copies the gradient back into the columns.
 */
template <typename Dtype>
class ColumnsToSetsLayer : public Layer<Dtype> {
 public:
  explicit ColumnsToSetsLayer(const LayerParameter& param)
      : Layer<Dtype>(param) {}
  virtual void Reshape(const vector<Blob<Dtype>*>& bottom,
      const vector<Blob<Dtype>*>& top);

  virtual inline const char* type() const { return "ColumnsToSets"; }
  virtual inline int ExactNumBottomBlobs() const { return 2; }
  virtual inline int ExactNumTopBlobs() const { return 1; }
  virtual inline bool AllowForceBackward(const int bottom_index) const {
    return bottom_index == 0;
  }

 protected:
  virtual void Forward_cpu(const vector<Blob<Dtype>*>& bottom,
      const vector<Blob<Dtype>*>& top);
  virtual void Forward_gpu(const vector<Blob<Dtype>*>& bottom,
      const vector<Blob<Dtype>*>& top);
  virtual void Backward_cpu(const vector<Blob<Dtype>*>& top,
      const vector<bool>& propagate_down, const vector<Blob<Dtype>*>& bottom);
  virtual void Backward_gpu(const vector<Blob<Dtype>*>& top,
      const vector<bool>& propagate_down, const vector<Blob<Dtype>*>& bottom);

  int num_, channels_, inner_;
};

}  // namespace caffe

#endif  // CAFFE_COLUMNS_TO_SETS_LAYER_HPP_
