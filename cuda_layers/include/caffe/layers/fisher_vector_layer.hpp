#ifndef CAFFE_FISHER_VECTOR_LAYER_HPP_
#define CAFFE_FISHER_VECTOR_LAYER_HPP_

#include <vector>

#include "caffe/blob.hpp"
#include "caffe/layer.hpp"
#include "caffe/proto/caffe.pb.h"

namespace caffe {

/**
 * @brief The FV-VAE Fisher Vector of a descriptor set: the gradient of the
 *        reconstruction loss with respect to the one-layer decoder's weights
 *        and bias, summed over the set (paper eq. 11), times a diagonal
 *        Fisher-information scale (eq. 12-13).
 *
 * Bottom 0: x, N x C x 1 x T (the descriptor set).
 * Bottom 1: @f$ \mu_x @f$, N x C x 1 x T (the decoder's ReLU output).
 * Bottom 2: z, N x K x 1 x T (the latent; @f$ \mu_z @f$ at extraction).
 * Param 0: @f$ \log \sigma_x @f$, shape (C), shared with
 *   GaussianReconstructionLoss by param name.
 * Param 1: the diagonal FIM scale s, shape (C * (K+1)); all ones until a tool
 *   fills it with @f$ F^{-1/2} @f$ estimated on training data.
 * Top: N x (C * (K+1)), row-major [c, k] with k = K the bias column:
 *   @f$ y[c,k] = s[c,k] \sum_t g[c,t] \, [z; 1][k,t] @f$,
 *   @f$ g = \frac{\mu_x - x}{\sigma_x^2} \odot [\mu_x > 0] @f$.
 * (Eq. 13 carries a minus sign; it flips every FV alike and is left out, as
 * in the authors' released extraction code.)
 * Backward reaches x, mu_x, z and both parameters, so the layer can sit in a
 * trainable graph.
 *
 * Columns layout: with a fourth bottom, a reference descriptor set N x * x 1
 * x T (only its shape is read), x, mu_x and z may be the descriptors of the
 * N sets as columns, 1 x C x 1 x (N T) and 1 x K x 1 x (N T) (SetsToColumns):
 * set n is then the block of columns n T .. n T + T - 1, and the top is the
 * same N x (C * (K+1)) as from the sets.
 */
template <typename Dtype>
class FisherVectorLayer : public Layer<Dtype> {
 public:
  explicit FisherVectorLayer(const LayerParameter& param)
      : Layer<Dtype>(param) {}
  virtual void LayerSetUp(const vector<Blob<Dtype>*>& bottom,
      const vector<Blob<Dtype>*>& top);
  virtual void Reshape(const vector<Blob<Dtype>*>& bottom,
      const vector<Blob<Dtype>*>& top);

  virtual inline const char* type() const { return "FisherVector"; }
  virtual inline int MinBottomBlobs() const { return 3; }
  virtual inline int MaxBottomBlobs() const { return 4; }
  virtual inline bool AllowForceBackward(const int bottom_index) const {
    return bottom_index < 3;
  }
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

  // Where set s lies: its C x T block of the residual starts at
  // g_offset(s), its (K+1) x T block of [z; 1] at zaug_offset(s), rows ld_
  // apart in both.
  inline int g_offset(int s) const {
    return columns_ ? s * set_len_ : s * channels_ * set_len_;
  }
  inline int zaug_offset(int s) const {
    return columns_ ? s * set_len_ : s * (latent_ + 1) * set_len_;
  }

  bool columns_;
  int sets_;     // N, the sets (rows of the top)
  int set_len_;  // T, descriptors per set
  int ld_;       // T (sets) or N T (columns): the row stride of a set's block
  int num_, inner_;  // the bottoms as num_ x C x inner_: N x C x T or 1 x C x N T
  int channels_, latent_, fv_dim_;
  Blob<Dtype> inv_var_;   // data 1 / sigma_x^2 (C); diff: scratch
  Blob<Dtype> residual_;  // data g (N x C x T); diff d loss / d g
  Blob<Dtype> zaug_;      // data [z; 1] (N x (K+1) x T); diff its gradient
  // data: the unscaled FV (kept by Forward_gpu; recomputed by Backward_cpu,
  // so that the CPU forward writes the large FV once); diff: scaled top diff
  Blob<Dtype> raw_;
};

}  // namespace caffe

#endif  // CAFFE_FISHER_VECTOR_LAYER_HPP_
