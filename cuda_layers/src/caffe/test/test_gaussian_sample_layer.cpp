#include <cmath>
#include <vector>

#include "gtest/gtest.h"

#include "caffe/blob.hpp"
#include "caffe/common.hpp"
#include "caffe/filler.hpp"
#include "caffe/layers/gaussian_sample_layer.hpp"

#include "caffe/test/test_caffe_main.hpp"
#include "caffe/test/test_gradient_check_util.hpp"

namespace caffe {

template <typename TypeParam>
class GaussianSampleLayerTest : public MultiDeviceTest<TypeParam> {
  typedef typename TypeParam::Dtype Dtype;

 protected:
  GaussianSampleLayerTest()
      : blob_mu_(new Blob<Dtype>(2, kLatent, 1, 3)),
        blob_z_(new Blob<Dtype>()),
        blob_loss_(new Blob<Dtype>()) {
    Caffe::set_random_seed(1701);
    FillerParameter filler_param;
    filler_param.set_min(-1);
    filler_param.set_max(1);
    UniformFiller<Dtype>(filler_param).Fill(blob_mu_);
    blob_bottom_vec_.push_back(blob_mu_);
    blob_top_vec_.push_back(blob_z_);
  }
  virtual ~GaussianSampleLayerTest() {
    delete blob_mu_; delete blob_z_; delete blob_loss_;
  }

  void RandomizeLogSigma(Layer<Dtype>* layer) {
    FillerParameter p;
    p.set_min(-0.5);
    p.set_max(0.5);
    UniformFiller<Dtype>(p).Fill(layer->blobs()[0].get());
  }

  // L_reg of Algorithm 1, line 10, summed over descriptors, written out here.
  double DirectRegLoss(const Blob<Dtype>& mu, const Blob<Dtype>& log_sigma) {
    double sum = 0;
    for (int i = 0; i < mu.count(); ++i) {
      sum += 0.5 * mu.cpu_data()[i] * mu.cpu_data()[i];
    }
    const int descriptors = mu.count() / kLatent;
    for (int k = 0; k < kLatent; ++k) {
      const double s = std::exp(log_sigma.cpu_data()[k]);
      sum += descriptors * (0.5 * s * s - 0.5 * (1 + std::log(s * s)));
    }
    return sum;
  }

  enum { kLatent = 4 };
  Blob<Dtype>* const blob_mu_;
  Blob<Dtype>* const blob_z_;
  Blob<Dtype>* const blob_loss_;
  vector<Blob<Dtype>*> blob_bottom_vec_;
  vector<Blob<Dtype>*> blob_top_vec_;
};

TYPED_TEST_CASE(GaussianSampleLayerTest, TestDtypesAndDevices);

TYPED_TEST(GaussianSampleLayerTest, TestSetUpAddsLossWeight) {
  typedef typename TypeParam::Dtype Dtype;
  LayerParameter layer_param;
  this->blob_top_vec_.push_back(this->blob_loss_);
  GaussianSampleLayer<Dtype> layer(layer_param);
  layer.SetUp(this->blob_bottom_vec_, this->blob_top_vec_);
  EXPECT_TRUE(this->blob_z_->shape() == this->blob_mu_->shape());
  EXPECT_EQ(this->blob_loss_->count(), 1);
  EXPECT_EQ(layer.loss(0), Dtype(0));
  EXPECT_EQ(layer.loss(1), Dtype(1));
  ASSERT_EQ(layer.blobs().size(), 1);
  EXPECT_EQ(layer.blobs()[0]->count(), this->kLatent);
}

TYPED_TEST(GaussianSampleLayerTest, TestForwardTestPhaseIsMean) {
  typedef typename TypeParam::Dtype Dtype;
  LayerParameter layer_param;
  layer_param.set_phase(TEST);
  this->blob_top_vec_.push_back(this->blob_loss_);
  GaussianSampleLayer<Dtype> layer(layer_param);
  layer.SetUp(this->blob_bottom_vec_, this->blob_top_vec_);
  this->RandomizeLogSigma(&layer);
  layer.Forward(this->blob_bottom_vec_, this->blob_top_vec_);
  for (int i = 0; i < this->blob_mu_->count(); ++i) {
    EXPECT_EQ(this->blob_z_->cpu_data()[i], this->blob_mu_->cpu_data()[i]);
  }
  const double expected = this->DirectRegLoss(*this->blob_mu_,
      *layer.blobs()[0]) / this->blob_mu_->num();  // BATCH_SIZE default
  EXPECT_NEAR(this->blob_loss_->cpu_data()[0], expected, 1e-4 * expected);
}

// In TRAIN, (z - mu) / sigma must be standard normal noise.
TYPED_TEST(GaussianSampleLayerTest, TestForwardTrainStatistics) {
  typedef typename TypeParam::Dtype Dtype;
  Blob<Dtype> mu(50, this->kLatent, 1, 100);
  FillerParameter filler_param;
  filler_param.set_min(-2);
  filler_param.set_max(2);
  UniformFiller<Dtype>(filler_param).Fill(&mu);
  vector<Blob<Dtype>*> bottom(1, &mu);
  LayerParameter layer_param;
  layer_param.set_phase(TRAIN);
  GaussianSampleLayer<Dtype> layer(layer_param);
  layer.SetUp(bottom, this->blob_top_vec_);
  Dtype* log_sigma = layer.blobs()[0]->mutable_cpu_data();
  for (int k = 0; k < this->kLatent; ++k) log_sigma[k] = Dtype(0.25 * k - 0.4);
  layer.Forward(bottom, this->blob_top_vec_);
  const int inner = 100;
  for (int k = 0; k < this->kLatent; ++k) {
    const double sigma = std::exp(0.25 * k - 0.4);
    double sum = 0, sum_sq = 0;
    int n_vals = 0;
    for (int n = 0; n < 50; ++n) {
      for (int t = 0; t < inner; ++t) {
        const int i = (n * this->kLatent + k) * inner + t;
        const double e = (this->blob_z_->cpu_data()[i] - mu.cpu_data()[i]) / sigma;
        sum += e;
        sum_sq += e * e;
        ++n_vals;
      }
    }
    const double mean = sum / n_vals, var = sum_sq / n_vals - mean * mean;
    EXPECT_NEAR(mean, 0, 0.1);   // 5000 draws: std of the mean ~0.014
    EXPECT_NEAR(var, 1, 0.1);
  }
}

TYPED_TEST(GaussianSampleLayerTest, TestGradientTrain) {
  typedef typename TypeParam::Dtype Dtype;
  LayerParameter layer_param;
  layer_param.set_phase(TRAIN);
  this->blob_top_vec_.push_back(this->blob_loss_);
  GaussianSampleLayer<Dtype> layer(layer_param);
  layer.SetUp(this->blob_bottom_vec_, this->blob_top_vec_);
  this->RandomizeLogSigma(&layer);
  // The checker reseeds Caffe's RNG before every forward: same noise each time.
  GradientChecker<Dtype> checker(1e-2, 1e-2, 1701);
  checker.CheckGradientExhaustive(&layer, this->blob_bottom_vec_,
      this->blob_top_vec_);
}

TYPED_TEST(GaussianSampleLayerTest, TestGradientTestPhaseVALID) {
  typedef typename TypeParam::Dtype Dtype;
  LayerParameter layer_param;
  layer_param.set_phase(TEST);
  layer_param.mutable_loss_param()->set_normalization(
      LossParameter_NormalizationMode_VALID);
  this->blob_top_vec_.push_back(this->blob_loss_);
  GaussianSampleLayer<Dtype> layer(layer_param);
  layer.SetUp(this->blob_bottom_vec_, this->blob_top_vec_);
  this->RandomizeLogSigma(&layer);
  GradientChecker<Dtype> checker(1e-2, 1e-2, 1701);
  checker.CheckGradientExhaustive(&layer, this->blob_bottom_vec_,
      this->blob_top_vec_);
}

TYPED_TEST(GaussianSampleLayerTest, TestGradientSampleOnly) {
  typedef typename TypeParam::Dtype Dtype;
  LayerParameter layer_param;
  layer_param.set_phase(TRAIN);
  GaussianSampleLayer<Dtype> layer(layer_param);
  layer.SetUp(this->blob_bottom_vec_, this->blob_top_vec_);
  this->RandomizeLogSigma(&layer);
  GradientChecker<Dtype> checker(1e-2, 1e-2, 1701);
  checker.CheckGradientExhaustive(&layer, this->blob_bottom_vec_,
      this->blob_top_vec_);
}

}  // namespace caffe
