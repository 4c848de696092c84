#include <cmath>
#include <vector>

#include "caffe/filler.hpp"
#include "caffe/layers/gaussian_sample_layer.hpp"
#include "caffe/util/fvvae_checks.hpp"
#include "caffe/util/fvvae_math.hpp"
#include "caffe/util/math_functions.hpp"

namespace caffe {

template <typename Dtype>
void GaussianSampleLayer<Dtype>::LayerSetUp(const vector<Blob<Dtype>*>& bottom,
    const vector<Blob<Dtype>*>& top) {
  fvvae_check_descriptor_set(this->layer_param_, "mu_z", *bottom[0]);
  latent_ = bottom[0]->shape(1);
  if (this->blobs_.size() > 0) {
    fvvae_check_param(this->layer_param_, "log sigma_z", *this->blobs_[0],
                      latent_);
  } else {
    this->blobs_.resize(1);
    this->blobs_[0].reset(new Blob<Dtype>(vector<int>(1, latent_)));
    shared_ptr<Filler<Dtype> > filler(GetFiller<Dtype>(
        this->layer_param_.gaussian_sample_param().log_sigma_filler()));
    filler->Fill(this->blobs_[0].get());
  }
  this->param_propagate_down_.resize(this->blobs_.size(), true);
  // Like Caffe's loss layers: the loss top weighs 1 unless told otherwise.
  if (top.size() == 2 && this->layer_param_.loss_weight_size() == 0) {
    this->layer_param_.add_loss_weight(Dtype(0));
    this->layer_param_.add_loss_weight(Dtype(1));
  }
}

template <typename Dtype>
void GaussianSampleLayer<Dtype>::Reshape(const vector<Blob<Dtype>*>& bottom,
    const vector<Blob<Dtype>*>& top) {
  fvvae_check_descriptor_set(this->layer_param_, "mu_z", *bottom[0]);
  CHECK_EQ(bottom[0]->shape(1), latent_) << fvvae_layer_id(this->layer_param_)
      << ": mu_z " << bottom[0]->shape_string() << " has "
      << bottom[0]->shape(1) << " latent channels, log sigma_z has " << latent_;
  num_ = bottom[0]->shape(0);
  inner_ = bottom[0]->count(2);
  normalizer_ = fvvae_loss_normalizer(this->layer_param_.loss_param(), num_,
                                      inner_);
  top[0]->ReshapeLike(*bottom[0]);
  if (top.size() > 1) top[1]->Reshape(vector<int>());
  const int count = bottom[0]->count();
  // cuRAND draws normal numbers in pairs: keep the noise buffer even.
  eps_.Reshape(vector<int>(1, count + count % 2));
  sigma_.Reshape(vector<int>(1, latent_));
}

template <typename Dtype>
Dtype GaussianSampleLayer<Dtype>::RegLoss(Dtype mu_sq_sum) const {
  const Dtype* log_sigma = this->blobs_[0]->cpu_data();
  const Dtype* sigma = sigma_.cpu_data();
  Dtype per_descriptor = 0;
  for (int k = 0; k < latent_; ++k) {
    per_descriptor += fvvae::kl_sigma_term(sigma[k] * sigma[k], log_sigma[k]);
  }
  return (Dtype(0.5) * mu_sq_sum
          + Dtype(num_) * Dtype(inner_) * per_descriptor) / normalizer_;
}

template <typename Dtype>
void GaussianSampleLayer<Dtype>::Forward_cpu(
    const vector<Blob<Dtype>*>& bottom, const vector<Blob<Dtype>*>& top) {
  const Dtype* mu = bottom[0]->cpu_data();
  const Dtype* log_sigma = this->blobs_[0]->cpu_data();
  Dtype* sigma = sigma_.mutable_cpu_data();
  for (int k = 0; k < latent_; ++k) sigma[k] = std::exp(log_sigma[k]);
  Dtype* z = top[0]->mutable_cpu_data();
  const int count = bottom[0]->count();
  if (this->phase_ == TRAIN) {
    Dtype* eps = eps_.mutable_cpu_data();
    caffe_rng_gaussian<Dtype>(eps_.count(), Dtype(0), Dtype(1), eps);
    for (int i = 0; i < count; i += inner_) {
      const Dtype s = sigma[(i / inner_) % latent_];
      for (int j = i; j < i + inner_; ++j) {
        z[j] = fvvae::gaussian_sample(mu[j], eps[j], s);
      }
    }
  } else {
    caffe_copy(count, mu, z);
  }
  if (top.size() > 1) {
    top[1]->mutable_cpu_data()[0] = RegLoss(caffe_cpu_dot(count, mu, mu));
  }
}

template <typename Dtype>
void GaussianSampleLayer<Dtype>::Backward_cpu(const vector<Blob<Dtype>*>& top,
    const vector<bool>& propagate_down, const vector<Blob<Dtype>*>& bottom) {
  const int count = bottom[0]->count();
  const Dtype* top_diff = top[0]->cpu_diff();
  const Dtype* mu = bottom[0]->cpu_data();
  const Dtype reg_scale =
      top.size() > 1 ? top[1]->cpu_diff()[0] / normalizer_ : Dtype(0);
  if (propagate_down[0]) {
    // dz/dmu = 1; d L_reg / d mu = mu.
    Dtype* bottom_diff = bottom[0]->mutable_cpu_diff();
    caffe_copy(count, top_diff, bottom_diff);
    if (reg_scale != Dtype(0)) caffe_axpy(count, reg_scale, mu, bottom_diff);
  }
  if (this->param_propagate_down_[0]) {
    // dz/d log sigma = eps * sigma (TRAIN); d L_reg / d log sigma = sigma^2-1
    // for every descriptor.
    const Dtype* sigma = sigma_.cpu_data();
    Dtype* noise_dot = sigma_.mutable_cpu_diff();
    const bool train = this->phase_ == TRAIN;
    if (train) {
      fvvae_channel_dot_cpu(num_, latent_, inner_, top_diff, eps_.cpu_data(),
                            Dtype(0), noise_dot);
    }
    Dtype* log_sigma_diff = this->blobs_[0]->mutable_cpu_diff();
    const Dtype descriptors = Dtype(num_) * Dtype(inner_);
    for (int k = 0; k < latent_; ++k) {
      log_sigma_diff[k] += (train ? sigma[k] * noise_dot[k] : Dtype(0))
          + reg_scale * descriptors * fvvae::kl_sigma_grad(sigma[k] * sigma[k]);
    }
  }
}

#ifdef CPU_ONLY
STUB_GPU(GaussianSampleLayer);
#endif

INSTANTIATE_CLASS(GaussianSampleLayer);
REGISTER_LAYER_CLASS(GaussianSample);

}  // namespace caffe
