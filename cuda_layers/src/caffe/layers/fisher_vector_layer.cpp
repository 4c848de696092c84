#include <cmath>
#include <vector>

#include "caffe/filler.hpp"
#include "caffe/layers/fisher_vector_layer.hpp"
#include "caffe/util/fvvae_checks.hpp"
#include "caffe/util/fvvae_math.hpp"
#include "caffe/util/math_functions.hpp"

namespace caffe {

template <typename Dtype>
void FisherVectorLayer<Dtype>::LayerSetUp(const vector<Blob<Dtype>*>& bottom,
    const vector<Blob<Dtype>*>& top) {
  fvvae_check_descriptor_set(this->layer_param_, "x", *bottom[0]);
  fvvae_check_descriptor_set(this->layer_param_, "z", *bottom[2]);
  channels_ = bottom[0]->shape(1);
  latent_ = bottom[2]->shape(1);
  fv_dim_ = channels_ * (latent_ + 1);
  if (this->blobs_.size() > 0) {
    CHECK_EQ(this->blobs_.size(), 2) << fvvae_layer_id(this->layer_param_)
        << ": needs 2 parameter blobs (log sigma_x, FIM scale), got "
        << this->blobs_.size();
    fvvae_check_param(this->layer_param_, "0 (log sigma_x)", *this->blobs_[0],
                      channels_);
    fvvae_check_param(this->layer_param_, "1 (FIM scale, C * (K+1))",
                      *this->blobs_[1], fv_dim_);
  } else {
    this->blobs_.resize(2);
    this->blobs_[0].reset(new Blob<Dtype>(vector<int>(1, channels_)));
    shared_ptr<Filler<Dtype> > filler(GetFiller<Dtype>(
        this->layer_param_.fisher_vector_param().log_sigma_filler()));
    filler->Fill(this->blobs_[0].get());
    this->blobs_[1].reset(new Blob<Dtype>(vector<int>(1, fv_dim_)));
    caffe_set(fv_dim_, Dtype(1), this->blobs_[1]->mutable_cpu_data());
  }
  this->param_propagate_down_.resize(this->blobs_.size(), true);
}

template <typename Dtype>
void FisherVectorLayer<Dtype>::Reshape(const vector<Blob<Dtype>*>& bottom,
    const vector<Blob<Dtype>*>& top) {
  const LayerParameter& p = this->layer_param_;
  fvvae_check_descriptor_set(p, "x", *bottom[0]);
  fvvae_check_same_shape(p, "x", *bottom[0], "mu_x", *bottom[1]);
  fvvae_check_descriptor_set(p, "z", *bottom[2]);
  CHECK(bottom[2]->shape(0) == bottom[0]->shape(0)
        && bottom[2]->count(2) == bottom[0]->count(2)) << fvvae_layer_id(p)
      << ": z " << bottom[2]->shape_string() << " must have the sets and "
      << "descriptors of x " << bottom[0]->shape_string();
  CHECK(bottom[0]->shape(1) == channels_ && bottom[2]->shape(1) == latent_)
      << fvvae_layer_id(p) << ": x " << bottom[0]->shape_string() << " and z "
      << bottom[2]->shape_string() << " must keep C = " << channels_
      << " and K = " << latent_ << " of the layer's parameters";
  num_ = bottom[0]->shape(0);
  inner_ = bottom[0]->count(2);
  columns_ = bottom.size() == 4;
  if (columns_) {
    fvvae_check_descriptor_set(p, "reference set", *bottom[3]);
    sets_ = bottom[3]->shape(0);
    set_len_ = bottom[3]->count(2);
    CHECK(num_ == 1 && inner_ == sets_ * set_len_) << fvvae_layer_id(p)
        << ": x " << bottom[0]->shape_string() << " must be 1 x C x 1 x (N T) "
        << "for the reference set " << bottom[3]->shape_string() << " (N = "
        << sets_ << ", T = " << set_len_ << ")";
    ld_ = inner_;
  } else {
    sets_ = num_;
    set_len_ = inner_;
    ld_ = inner_;
  }
  vector<int> top_shape(2);
  top_shape[0] = sets_;
  top_shape[1] = fv_dim_;
  top[0]->Reshape(top_shape);
  raw_.Reshape(top_shape);
  inv_var_.Reshape(vector<int>(1, channels_));
  residual_.ReshapeLike(*bottom[0]);
  vector<int> zaug_shape(3);
  zaug_shape[0] = num_;
  zaug_shape[1] = latent_ + 1;
  zaug_shape[2] = inner_;
  zaug_.Reshape(zaug_shape);
}

template <typename Dtype>
void FisherVectorLayer<Dtype>::Forward_cpu(const vector<Blob<Dtype>*>& bottom,
    const vector<Blob<Dtype>*>& top) {
  const Dtype* x = bottom[0]->cpu_data();
  const Dtype* mu = bottom[1]->cpu_data();
  const Dtype* z = bottom[2]->cpu_data();
  const Dtype* log_sigma = this->blobs_[0]->cpu_data();
  const Dtype* scale = this->blobs_[1]->cpu_data();
  Dtype* inv_var = inv_var_.mutable_cpu_data();
  for (int c = 0; c < channels_; ++c) {
    inv_var[c] = std::exp(-Dtype(2) * log_sigma[c]);
  }
  Dtype* g = residual_.mutable_cpu_data();
  for (int n = 0; n < num_; ++n) {
    for (int c = 0; c < channels_; ++c) {
      const int base = (n * channels_ + c) * inner_;
      const Dtype iv = inv_var[c];
      for (int t = 0; t < inner_; ++t) {
        g[base + t] = fvvae::fv_residual(x[base + t], mu[base + t], iv);
      }
    }
  }
  Dtype* zaug = zaug_.mutable_cpu_data();
  const int zlen = latent_ * inner_;
  for (int n = 0; n < num_; ++n) {
    Dtype* zaug_n = zaug + n * (zlen + inner_);
    caffe_copy(zlen, z + n * zlen, zaug_n);
    caffe_set(inner_, Dtype(1), zaug_n + zlen);
  }
  bool unit_scale = true;
  for (int j = 0; j < fv_dim_ && unit_scale; ++j) unit_scale = scale[j] == 1;
  Dtype* fv = top[0]->mutable_cpu_data();
  for (int s = 0; s < sets_; ++s) {
    // eq. 11 summed over t: G_s (C x T) times [z; 1]_s^T (T x (K+1)),
    // written straight into the top and scaled there (eq. 13); Backward
    // recomputes the unscaled product when the scale's gradient is needed.
    fvvae_cpu_gemm_ld<Dtype>(CblasNoTrans, CblasTrans, channels_, latent_ + 1,
        set_len_, Dtype(1), g + g_offset(s), ld_, zaug + zaug_offset(s), ld_,
        Dtype(0), fv + s * fv_dim_, latent_ + 1);
    if (!unit_scale) {
      caffe_mul(fv_dim_, fv + s * fv_dim_, scale, fv + s * fv_dim_);
    }
  }
}

template <typename Dtype>
void FisherVectorLayer<Dtype>::Backward_cpu(const vector<Blob<Dtype>*>& top,
    const vector<bool>& propagate_down, const vector<Blob<Dtype>*>& bottom) {
  const Dtype* top_diff = top[0]->cpu_diff();
  const Dtype* scale = this->blobs_[1]->cpu_data();
  const Dtype* g = residual_.cpu_data();
  const Dtype* zaug = zaug_.cpu_data();
  const int k1 = latent_ + 1;
  if (this->param_propagate_down_[1]) {
    // d y[c,k] / d s[c,k] = raw[c,k], summed over the sets; raw is the
    // unscaled product of Forward, recomputed here.
    Dtype* raw = raw_.mutable_cpu_data();
    for (int s = 0; s < sets_; ++s) {
      fvvae_cpu_gemm_ld<Dtype>(CblasNoTrans, CblasTrans, channels_, k1,
          set_len_, Dtype(1), g + g_offset(s), ld_, zaug + zaug_offset(s), ld_,
          Dtype(0), raw + s * fv_dim_, k1);
    }
    fvvae_channel_dot_cpu(sets_, fv_dim_, 1, top_diff, raw_.cpu_data(),
                          Dtype(1), this->blobs_[1]->mutable_cpu_diff());
  }
  if (bottom.size() > 3 && propagate_down[3]) {  // only its shape is used
    caffe_set(bottom[3]->count(), Dtype(0), bottom[3]->mutable_cpu_diff());
  }
  const bool need_dg = propagate_down[0] || propagate_down[1]
      || this->param_propagate_down_[0];
  if (!need_dg && !propagate_down[2]) return;
  Dtype* d_raw = raw_.mutable_cpu_diff();
  for (int s = 0; s < sets_; ++s) {
    caffe_mul(fv_dim_, top_diff + s * fv_dim_, scale, d_raw + s * fv_dim_);
  }
  const int zl = k1 * inner_;
  if (propagate_down[2]) {
    Dtype* d_zaug = zaug_.mutable_cpu_diff();
    Dtype* z_diff = bottom[2]->mutable_cpu_diff();
    for (int s = 0; s < sets_; ++s) {
      // d [z; 1] = D^T (K+1 x C) G (C x T); the bias row is dropped.
      fvvae_cpu_gemm_ld<Dtype>(CblasTrans, CblasNoTrans, k1, set_len_,
          channels_, Dtype(1), d_raw + s * fv_dim_, k1, g + g_offset(s), ld_,
          Dtype(0), d_zaug + zaug_offset(s), ld_);
    }
    for (int n = 0; n < num_; ++n) {
      caffe_copy(latent_ * inner_, d_zaug + n * zl,
                 z_diff + n * latent_ * inner_);
    }
  }
  if (!need_dg) return;
  Dtype* d_g = residual_.mutable_cpu_diff();
  for (int s = 0; s < sets_; ++s) {
    // d G = D (C x K+1) [z; 1] (K+1 x T).
    fvvae_cpu_gemm_ld<Dtype>(CblasNoTrans, CblasNoTrans, channels_, set_len_,
        k1, Dtype(1), d_raw + s * fv_dim_, k1, zaug + zaug_offset(s), ld_,
        Dtype(0), d_g + g_offset(s), ld_);
  }
  const Dtype* mu = bottom[1]->cpu_data();
  const Dtype* inv_var = inv_var_.cpu_data();
  const int count = bottom[0]->count();
  Dtype* x_diff = propagate_down[0] ? bottom[0]->mutable_cpu_diff() : NULL;
  Dtype* mu_diff = propagate_down[1] ? bottom[1]->mutable_cpu_diff() : NULL;
  for (int i = 0; i < count; i += inner_) {
    const Dtype iv = inv_var[(i / inner_) % channels_];
    for (int j = i; j < i + inner_; ++j) {
      // g = (mu - x) / sigma^2 where mu > 0, else 0.
      const Dtype d = mu[j] > Dtype(0) ? d_g[j] * iv : Dtype(0);
      if (mu_diff) mu_diff[j] = d;
      if (x_diff) x_diff[j] = -d;
    }
  }
  if (this->param_propagate_down_[0]) {
    // d g / d log sigma = -2 g.
    Dtype* dot = inv_var_.mutable_cpu_diff();
    fvvae_channel_dot_cpu(num_, channels_, inner_, d_g, g, Dtype(0), dot);
    caffe_axpy(channels_, Dtype(-2), dot, this->blobs_[0]->mutable_cpu_diff());
  }
}

#ifdef CPU_ONLY
STUB_GPU(FisherVectorLayer);
#endif

INSTANTIATE_CLASS(FisherVectorLayer);
REGISTER_LAYER_CLASS(FisherVector);

}  // namespace caffe
