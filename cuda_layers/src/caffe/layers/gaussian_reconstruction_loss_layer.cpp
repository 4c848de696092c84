#include <cmath>
#include <vector>

#include "caffe/filler.hpp"
#include "caffe/layers/gaussian_reconstruction_loss_layer.hpp"
#include "caffe/util/fvvae_checks.hpp"
#include "caffe/util/fvvae_math.hpp"
#include "caffe/util/math_functions.hpp"

namespace caffe {

template <typename Dtype>
void GaussianReconstructionLossLayer<Dtype>::LayerSetUp(
    const vector<Blob<Dtype>*>& bottom, const vector<Blob<Dtype>*>& top) {
  LossLayer<Dtype>::LayerSetUp(bottom, top);
  fvvae_check_descriptor_set(this->layer_param_, "x", *bottom[0]);
  channels_ = bottom[0]->shape(1);
  if (this->blobs_.size() > 0) {
    fvvae_check_param(this->layer_param_, "log sigma_x", *this->blobs_[0],
                      channels_);
  } else {
    this->blobs_.resize(1);
    this->blobs_[0].reset(new Blob<Dtype>(vector<int>(1, channels_)));
    shared_ptr<Filler<Dtype> > filler(GetFiller<Dtype>(this->layer_param_
        .gaussian_reconstruction_loss_param().log_sigma_filler()));
    filler->Fill(this->blobs_[0].get());
  }
  this->param_propagate_down_.resize(this->blobs_.size(), true);
}

template <typename Dtype>
void GaussianReconstructionLossLayer<Dtype>::Reshape(
    const vector<Blob<Dtype>*>& bottom, const vector<Blob<Dtype>*>& top) {
  fvvae_check_descriptor_set(this->layer_param_, "x", *bottom[0]);
  fvvae_check_same_shape(this->layer_param_, "x", *bottom[0], "mu_x",
                         *bottom[1]);
  CHECK_EQ(bottom[0]->shape(1), channels_) << fvvae_layer_id(this->layer_param_)
      << ": x " << bottom[0]->shape_string() << " has " << bottom[0]->shape(1)
      << " channels, log sigma_x has " << channels_;
  LossLayer<Dtype>::Reshape(bottom, top);
  num_ = bottom[0]->shape(0);
  inner_ = bottom[0]->count(2);
  normalizer_ = fvvae_loss_normalizer(this->layer_param_.loss_param(), num_,
                                      inner_);
  inv_var_.Reshape(vector<int>(1, channels_));
  scratch_.ReshapeLike(*bottom[0]);
}

template <typename Dtype>
Dtype GaussianReconstructionLossLayer<Dtype>::PrepareSigma() {
  const Dtype* log_sigma = this->blobs_[0]->cpu_data();
  Dtype* inv_var = inv_var_.mutable_cpu_data();
  const double half_log_2pi = 0.5 * std::log(2.0 * M_PI);
  double log_terms = 0;
  for (int c = 0; c < channels_; ++c) {
    inv_var[c] = std::exp(-Dtype(2) * log_sigma[c]);
    log_terms += log_sigma[c] + half_log_2pi;
  }
  return Dtype(double(num_) * inner_ * log_terms);
}

template <typename Dtype>
void GaussianReconstructionLossLayer<Dtype>::Forward_cpu(
    const vector<Blob<Dtype>*>& bottom, const vector<Blob<Dtype>*>& top) {
  const Dtype log_part = PrepareSigma();
  const Dtype* x = bottom[0]->cpu_data();
  const Dtype* mu = bottom[1]->cpu_data();
  const Dtype* inv_var = inv_var_.cpu_data();
  Dtype data_part = 0;
  for (int n = 0; n < num_; ++n) {
    for (int c = 0; c < channels_; ++c) {
      const int base = (n * channels_ + c) * inner_;
      const Dtype iv = inv_var[c];
      Dtype row = 0;
      for (int t = 0; t < inner_; ++t) {
        row += fvvae::half_sq_residual(x[base + t], mu[base + t], iv);
      }
      data_part += row;
    }
  }
  top[0]->mutable_cpu_data()[0] = (data_part + log_part) / normalizer_;
}

template <typename Dtype>
void GaussianReconstructionLossLayer<Dtype>::Backward_cpu(
    const vector<Blob<Dtype>*>& top, const vector<bool>& propagate_down,
    const vector<Blob<Dtype>*>& bottom) {
  const Dtype scale = top[0]->cpu_diff()[0] / normalizer_;
  const Dtype* x = bottom[0]->cpu_data();
  const Dtype* mu = bottom[1]->cpu_data();
  const Dtype* inv_var = inv_var_.cpu_data();
  const int count = bottom[0]->count();
  Dtype* x_diff = propagate_down[0] ? bottom[0]->mutable_cpu_diff() : NULL;
  Dtype* mu_diff = propagate_down[1] ? bottom[1]->mutable_cpu_diff() : NULL;
  Dtype* sigma_terms =
      this->param_propagate_down_[0] ? scratch_.mutable_cpu_diff() : NULL;
  for (int i = 0; i < count; i += inner_) {
    const Dtype iv = inv_var[(i / inner_) % channels_];
    for (int j = i; j < i + inner_; ++j) {
      const Dtype g = scale * fvvae::rec_grad_mu(x[j], mu[j], iv);
      if (mu_diff) mu_diff[j] = g;
      if (x_diff) x_diff[j] = -g;
      if (sigma_terms) {
        sigma_terms[j] = scale * fvvae::rec_grad_log_sigma(x[j], mu[j], iv);
      }
    }
  }
  if (sigma_terms) {
    fvvae_channel_dot_cpu<Dtype>(num_, channels_, inner_, sigma_terms, NULL,
        Dtype(1), this->blobs_[0]->mutable_cpu_diff());
  }
}

#ifdef CPU_ONLY
STUB_GPU(GaussianReconstructionLossLayer);
#endif

INSTANTIATE_CLASS(GaussianReconstructionLossLayer);
REGISTER_LAYER_CLASS(GaussianReconstructionLoss);

}  // namespace caffe
