#include <cmath>
#include <vector>

#include "gtest/gtest.h"

#include "caffe/blob.hpp"
#include "caffe/common.hpp"
#include "caffe/filler.hpp"
#include "caffe/layers/gaussian_reconstruction_loss_layer.hpp"

#include "caffe/test/test_caffe_main.hpp"
#include "caffe/test/test_gradient_check_util.hpp"

namespace caffe {

template <typename TypeParam>
class GaussianReconstructionLossLayerTest : public MultiDeviceTest<TypeParam> {
  typedef typename TypeParam::Dtype Dtype;

 protected:
  GaussianReconstructionLossLayerTest()
      : blob_x_(new Blob<Dtype>(kNum, kChannels, 1, kT)),
        blob_mu_(new Blob<Dtype>(kNum, kChannels, 1, kT)),
        blob_top_(new Blob<Dtype>()) {
    Caffe::set_random_seed(1701);
    FillerParameter filler_param;
    filler_param.set_min(-1);
    filler_param.set_max(1);
    UniformFiller<Dtype> filler(filler_param);
    filler.Fill(blob_x_);
    filler.Fill(blob_mu_);
    blob_bottom_vec_.push_back(blob_x_);
    blob_bottom_vec_.push_back(blob_mu_);
    blob_top_vec_.push_back(blob_top_);
  }
  virtual ~GaussianReconstructionLossLayerTest() {
    delete blob_x_; delete blob_mu_; delete blob_top_;
  }

  void RandomizeLogSigma(Layer<Dtype>* layer) {
    FillerParameter p;
    p.set_min(-0.5);
    p.set_max(0.5);
    UniformFiller<Dtype>(p).Fill(layer->blobs()[0].get());
  }

  // -log N(x; mu, sigma^2) summed over every element, written out here.
  double DirectNegLogLikelihood(const Blob<Dtype>& log_sigma) {
    const Dtype* x = blob_x_->cpu_data();
    const Dtype* mu = blob_mu_->cpu_data();
    double sum = 0;
    for (int n = 0; n < kNum; ++n) {
      for (int c = 0; c < kChannels; ++c) {
        const double ls = log_sigma.cpu_data()[c];
        const double sigma = std::exp(ls);
        for (int t = 0; t < kT; ++t) {
          const int i = (n * kChannels + c) * kT + t;
          const double r = x[i] - mu[i];
          sum += r * r / (2 * sigma * sigma) + ls + 0.5 * std::log(2 * M_PI);
        }
      }
    }
    return sum;
  }

  enum { kNum = 3, kChannels = 4, kT = 5 };
  Blob<Dtype>* const blob_x_;
  Blob<Dtype>* const blob_mu_;
  Blob<Dtype>* const blob_top_;
  vector<Blob<Dtype>*> blob_bottom_vec_;
  vector<Blob<Dtype>*> blob_top_vec_;
};

TYPED_TEST_CASE(GaussianReconstructionLossLayerTest, TestDtypesAndDevices);

TYPED_TEST(GaussianReconstructionLossLayerTest, TestForwardBatchSizeNormalization) {
  typedef typename TypeParam::Dtype Dtype;
  LayerParameter layer_param;  // default normalization: per set (N)
  GaussianReconstructionLossLayer<Dtype> layer(layer_param);
  layer.SetUp(this->blob_bottom_vec_, this->blob_top_vec_);
  this->RandomizeLogSigma(&layer);
  layer.Forward(this->blob_bottom_vec_, this->blob_top_vec_);
  const double expected = this->DirectNegLogLikelihood(*layer.blobs()[0])
      / this->kNum;
  EXPECT_NEAR(this->blob_top_->cpu_data()[0], expected, 1e-4 * std::fabs(expected));
}

TYPED_TEST(GaussianReconstructionLossLayerTest, TestForwardOtherNormalizations) {
  typedef typename TypeParam::Dtype Dtype;
  const LossParameter_NormalizationMode modes[] = {
      LossParameter_NormalizationMode_VALID,
      LossParameter_NormalizationMode_NONE};
  const double divisors[] = {double(this->kNum) * this->kT, 1.0};
  for (int m = 0; m < 2; ++m) {
    LayerParameter layer_param;
    layer_param.mutable_loss_param()->set_normalization(modes[m]);
    GaussianReconstructionLossLayer<Dtype> layer(layer_param);
    layer.SetUp(this->blob_bottom_vec_, this->blob_top_vec_);
    this->RandomizeLogSigma(&layer);
    layer.Forward(this->blob_bottom_vec_, this->blob_top_vec_);
    const double expected = this->DirectNegLogLikelihood(*layer.blobs()[0])
        / divisors[m];
    EXPECT_NEAR(this->blob_top_->cpu_data()[0], expected,
                1e-4 * std::fabs(expected));
  }
}

TYPED_TEST(GaussianReconstructionLossLayerTest, TestGradient) {
  typedef typename TypeParam::Dtype Dtype;
  LayerParameter layer_param;
  layer_param.add_loss_weight(3);
  GaussianReconstructionLossLayer<Dtype> layer(layer_param);
  layer.SetUp(this->blob_bottom_vec_, this->blob_top_vec_);
  this->RandomizeLogSigma(&layer);
  GradientChecker<Dtype> checker(1e-2, 1e-2, 1701);
  checker.CheckGradientExhaustive(&layer, this->blob_bottom_vec_,
      this->blob_top_vec_);
}

}  // namespace caffe
