#ifndef CAFFE_GAUSSIAN_RECONSTRUCTION_LOSS_LAYER_HPP_
#define CAFFE_GAUSSIAN_RECONSTRUCTION_LOSS_LAYER_HPP_

#include <vector>

#include "caffe/blob.hpp"
#include "caffe/layer.hpp"
#include "caffe/layers/loss_layer.hpp"
#include "caffe/proto/caffe.pb.h"

namespace caffe {

/**
 * @brief The FV-VAE reconstruction loss, -log N(x; mu_x, sigma_x^2 I) with one
 *        sigma_x per channel shared by all descriptors (Algorithm 1, line 9).
 *
 * Bottom 0: x, N x C x 1 x T, the descriptor set the decoder must rebuild.
 * Bottom 1: @f$ \mu_x @f$, N x C x 1 x T, the decoder's output.
 * Param 0: @f$ \log \sigma_x @f$, shape (C); share it with FisherVector by
 *   giving both layers the same param { name: ... }.
 * Top: @f$ L_{rec} = \frac{1}{D} \sum_{n,c,t} \left[
 *   \frac{(x - \mu_x)^2}{2\sigma_x(c)^2} + \log\sigma_x(c)
 *   + \frac{1}{2}\log 2\pi \right] @f$, D from loss_param.normalization:
 *   N by default (BATCH_SIZE), N*T for VALID/FULL, 1 for NONE.
 * Gradients go to mu_x, to x (when asked: force_backward or a trunk below)
 * and to log sigma_x.
 */
template <typename Dtype>
class GaussianReconstructionLossLayer : public LossLayer<Dtype> {
 public:
  explicit GaussianReconstructionLossLayer(const LayerParameter& param)
      : LossLayer<Dtype>(param) {}
  virtual void LayerSetUp(const vector<Blob<Dtype>*>& bottom,
      const vector<Blob<Dtype>*>& top);
  virtual void Reshape(const vector<Blob<Dtype>*>& bottom,
      const vector<Blob<Dtype>*>& top);

  virtual inline const char* type() const {
    return "GaussianReconstructionLoss";
  }
  /// Both bottoms are real-valued and may receive gradients.
  virtual inline bool AllowForceBackward(const int bottom_index) const {
    return true;
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

  /// Fills inv_var_ with 1 / sigma_x^2 and returns the x-independent part of
  /// the sum: N * T * sum_c (log sigma_x(c) + 1/2 log 2 pi).
  Dtype PrepareSigma();

  int num_, channels_, inner_;
  Dtype normalizer_;
  Blob<Dtype> inv_var_;  // 1 / sigma_x^2, shape (C)
  Blob<Dtype> scratch_;  // per-element terms, N x C x T
};

}  // namespace caffe

#endif  // CAFFE_GAUSSIAN_RECONSTRUCTION_LOSS_LAYER_HPP_
