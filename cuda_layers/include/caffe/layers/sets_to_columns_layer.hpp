#ifndef CAFFE_SETS_TO_COLUMNS_LAYER_HPP_
#define CAFFE_SETS_TO_COLUMNS_LAYER_HPP_

#include <vector>

#include "caffe/blob.hpp"
#include "caffe/layer.hpp"
#include "caffe/proto/caffe.pb.h"

namespace caffe {

/**
 * @brief Lays the descriptor sets of a batch side by side as the columns of
 *        one matrix: @f$ y[0, c, 0, n T + t] = x[n, c, t] @f$.
 *
 * Bottom: x, N x C x 1 x T (any axes after C are the T descriptors).
 * Top: 1 x C x 1 x (N T).
 *
 * The FV-VAE encoder and decoder act on every descriptor alike (1x1
 * convolutions, paper eq. 5-6), so they may run on the columns: Caffe's
 * convolution makes one GEMM per sample, and on the columns that is one
 * C' x C x (N T) product instead of N products with only T = 50 columns.
 * ColumnsToSets is the inverse. Backward copies the gradient back.
 */
template <typename Dtype>
class SetsToColumnsLayer : public Layer<Dtype> {
 public:
  explicit SetsToColumnsLayer(const LayerParameter& param)
      : Layer<Dtype>(param) {}
  virtual void Reshape(const vector<Blob<Dtype>*>& bottom,
      const vector<Blob<Dtype>*>& top);

  virtual inline const char* type() const { return "SetsToColumns"; }
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

  int num_, channels_, inner_;
};

}  // namespace caffe

#endif  // CAFFE_SETS_TO_COLUMNS_LAYER_HPP_
