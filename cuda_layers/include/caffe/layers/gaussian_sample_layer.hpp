#ifndef CAFFE_GAUSSIAN_SAMPLE_LAYER_HPP_
#define CAFFE_GAUSSIAN_SAMPLE_LAYER_HPP_

#include <vector>

#include "caffe/blob.hpp"
#include "caffe/layer.hpp"
#include "caffe/proto/caffe.pb.h"

namespace caffe {

/**
 * @brief Samples the latent variable of the FV-VAE with one sigma shared by
 *        all descriptors (Algorithm 1, lines 7 and 10; section 3.3).
 *
 * Bottom 0: @f$ \mu_z @f$, N x K x 1 x T (K latent dimensions, T descriptors).
 * Param 0: @f$ \log \sigma_z @f$, shape (K).
 * Top 0: @f$ z = \mu_z + \epsilon \odot \sigma_z @f$ with
 *   @f$ \epsilon \sim \mathcal{N}(0, I) @f$ from Caffe's RNG in TRAIN;
 *   @f$ z = \mu_z @f$ in TEST (the paper's extraction withdraws sampling).
 * Top 1 (optional; loss weight 1 unless loss_weight says otherwise):
 *   @f$ L_{reg} = \frac{1}{D} \sum_{n,t} \left[ \frac{1}{2}\|\mu_z\|^2
 *     + \frac{1}{2}\|\sigma_z\|^2 - \frac{1}{2}\sum_k (1 + \log\sigma_z(k)^2)
 *     \right] @f$, where D comes from loss_param.normalization: N by default
 *   (BATCH_SIZE), N*T for VALID/FULL, 1 for NONE.
 */
template <typename Dtype>
class GaussianSampleLayer : public Layer<Dtype> {
 public:
  explicit GaussianSampleLayer(const LayerParameter& param)
      : Layer<Dtype>(param) {}
  virtual void LayerSetUp(const vector<Blob<Dtype>*>& bottom,
      const vector<Blob<Dtype>*>& top);
  virtual void Reshape(const vector<Blob<Dtype>*>& bottom,
      const vector<Blob<Dtype>*>& top);

  virtual inline const char* type() const { return "GaussianSample"; }
  virtual inline int ExactNumBottomBlobs() const { return 1; }
  virtual inline int MinTopBlobs() const { return 1; }
  virtual inline int MaxTopBlobs() const { return 2; }

 protected:
  virtual void Forward_cpu(const vector<Blob<Dtype>*>& bottom,
      const vector<Blob<Dtype>*>& top);
  virtual void Forward_gpu(const vector<Blob<Dtype>*>& bottom,
      const vector<Blob<Dtype>*>& top);
  virtual void Backward_cpu(const vector<Blob<Dtype>*>& top,
      const vector<bool>& propagate_down, const vector<Blob<Dtype>*>& bottom);
  virtual void Backward_gpu(const vector<Blob<Dtype>*>& top,
      const vector<bool>& propagate_down, const vector<Blob<Dtype>*>& bottom);

  /// The regularisation loss of the current sigma and the given sum of mu^2.
  Dtype RegLoss(Dtype mu_sq_sum) const;

  int num_, latent_, inner_;
  Dtype normalizer_;
  Blob<Dtype> eps_;    // the noise of the last TRAIN forward (even count)
  Blob<Dtype> sigma_;  // data: sigma_z = exp(log sigma_z); diff: scratch
};

}  // namespace caffe

#endif  // CAFFE_GAUSSIAN_SAMPLE_LAYER_HPP_
