#include <cmath>
#include <vector>

#include "gtest/gtest.h"

#include "caffe/blob.hpp"
#include "caffe/common.hpp"
#include "caffe/filler.hpp"
#include "caffe/layers/signed_sqrt_layer.hpp"

#include "caffe/test/test_caffe_main.hpp"
#include "caffe/test/test_gradient_check_util.hpp"

namespace caffe {

template <typename TypeParam>
class SignedSqrtLayerTest : public MultiDeviceTest<TypeParam> {
  typedef typename TypeParam::Dtype Dtype;

 protected:
  SignedSqrtLayerTest()
      : blob_bottom_(new Blob<Dtype>(2, 3, 4, 5)),
        blob_top_(new Blob<Dtype>()) {
    Caffe::set_random_seed(1701);
    FillerParameter filler_param;
    filler_param.set_min(-2);
    filler_param.set_max(2);
    UniformFiller<Dtype>(filler_param).Fill(blob_bottom_);
    // Away from 0, where the square root's slope is unbounded.
    Dtype* x = blob_bottom_->mutable_cpu_data();
    for (int i = 0; i < blob_bottom_->count(); ++i) {
      x[i] = (x[i] >= 0 ? Dtype(1) : Dtype(-1)) * (Dtype(0.3) + std::fabs(x[i]));
    }
    blob_bottom_vec_.push_back(blob_bottom_);
    blob_top_vec_.push_back(blob_top_);
  }
  virtual ~SignedSqrtLayerTest() { delete blob_bottom_; delete blob_top_; }

  Blob<Dtype>* const blob_bottom_;
  Blob<Dtype>* const blob_top_;
  vector<Blob<Dtype>*> blob_bottom_vec_;
  vector<Blob<Dtype>*> blob_top_vec_;
};

TYPED_TEST_CASE(SignedSqrtLayerTest, TestDtypesAndDevices);

TYPED_TEST(SignedSqrtLayerTest, TestForward) {
  typedef typename TypeParam::Dtype Dtype;
  LayerParameter layer_param;
  SignedSqrtLayer<Dtype> layer(layer_param);
  layer.SetUp(this->blob_bottom_vec_, this->blob_top_vec_);
  layer.Forward(this->blob_bottom_vec_, this->blob_top_vec_);
  for (int i = 0; i < this->blob_bottom_->count(); ++i) {
    const double x = this->blob_bottom_->cpu_data()[i];
    const double expected = x >= 0 ? std::sqrt(x) : -std::sqrt(-x);
    EXPECT_NEAR(this->blob_top_->cpu_data()[i], expected, 1e-5);
  }
}

TYPED_TEST(SignedSqrtLayerTest, TestForwardZeroHasFiniteGradient) {
  typedef typename TypeParam::Dtype Dtype;
  LayerParameter layer_param;
  SignedSqrtLayer<Dtype> layer(layer_param);
  Blob<Dtype> zero(1, 1, 1, 2);
  zero.mutable_cpu_data()[0] = 0;
  zero.mutable_cpu_data()[1] = 0;
  vector<Blob<Dtype>*> bottom(1, &zero);
  layer.SetUp(bottom, this->blob_top_vec_);
  layer.Forward(bottom, this->blob_top_vec_);
  EXPECT_EQ(this->blob_top_->cpu_data()[0], Dtype(0));
  caffe_set(2, Dtype(1), this->blob_top_->mutable_cpu_diff());
  layer.Backward(this->blob_top_vec_, vector<bool>(1, true), bottom);
  EXPECT_TRUE(std::isfinite(static_cast<double>(zero.cpu_diff()[0])));
}

TYPED_TEST(SignedSqrtLayerTest, TestGradient) {
  typedef typename TypeParam::Dtype Dtype;
  LayerParameter layer_param;
  SignedSqrtLayer<Dtype> layer(layer_param);
  GradientChecker<Dtype> checker(1e-3, 1e-2);
  checker.CheckGradientEltwise(&layer, this->blob_bottom_vec_,
      this->blob_top_vec_);
}

}  // namespace caffe
