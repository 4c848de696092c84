#include <cmath>
#include <vector>

#include "gtest/gtest.h"

#include "caffe/blob.hpp"
#include "caffe/common.hpp"
#include "caffe/filler.hpp"
#include "caffe/layers/normalize_layer.hpp"

#include "caffe/test/test_caffe_main.hpp"
#include "caffe/test/test_gradient_check_util.hpp"

namespace caffe {

template <typename TypeParam>
class NormalizeLayerTest : public MultiDeviceTest<TypeParam> {
  typedef typename TypeParam::Dtype Dtype;

 protected:
  NormalizeLayerTest()
      : blob_bottom_(new Blob<Dtype>(2, 3, 2, 3)),
        blob_top_(new Blob<Dtype>()) {
    Caffe::set_random_seed(1701);
    FillerParameter filler_param;
    filler_param.set_min(-1);
    filler_param.set_max(1);
    UniformFiller<Dtype>(filler_param).Fill(blob_bottom_);
    blob_bottom_vec_.push_back(blob_bottom_);
    blob_top_vec_.push_back(blob_top_);
  }
  virtual ~NormalizeLayerTest() { delete blob_bottom_; delete blob_top_; }

  Blob<Dtype>* const blob_bottom_;
  Blob<Dtype>* const blob_top_;
  vector<Blob<Dtype>*> blob_bottom_vec_;
  vector<Blob<Dtype>*> blob_top_vec_;
};

TYPED_TEST_CASE(NormalizeLayerTest, TestDtypesAndDevices);

// The authors' frame normalisation: the whole map to norm 158.
TYPED_TEST(NormalizeLayerTest, TestForwardAcrossSpatial) {
  typedef typename TypeParam::Dtype Dtype;
  LayerParameter layer_param;
  layer_param.mutable_normalize_param()->set_scale(158);
  NormalizeLayer<Dtype> layer(layer_param);
  layer.SetUp(this->blob_bottom_vec_, this->blob_top_vec_);
  layer.Forward(this->blob_bottom_vec_, this->blob_top_vec_);
  const int dim = this->blob_bottom_->count(1);
  for (int n = 0; n < this->blob_bottom_->num(); ++n) {
    double norm = 0;
    for (int j = 0; j < dim; ++j) {
      const double v = this->blob_bottom_->cpu_data()[n * dim + j];
      norm += v * v;
    }
    norm = std::sqrt(norm);
    for (int j = 0; j < dim; ++j) {
      EXPECT_NEAR(this->blob_top_->cpu_data()[n * dim + j],
                  158 * this->blob_bottom_->cpu_data()[n * dim + j] / norm, 1e-3);
    }
  }
}

TYPED_TEST(NormalizeLayerTest, TestForwardPerDescriptor) {
  typedef typename TypeParam::Dtype Dtype;
  LayerParameter layer_param;
  layer_param.mutable_normalize_param()->set_across_spatial(false);
  NormalizeLayer<Dtype> layer(layer_param);
  layer.SetUp(this->blob_bottom_vec_, this->blob_top_vec_);
  layer.Forward(this->blob_bottom_vec_, this->blob_top_vec_);
  const int C = 3, S = 6;
  for (int n = 0; n < 2; ++n) {
    for (int s = 0; s < S; ++s) {
      double norm = 0;
      for (int c = 0; c < C; ++c) {
        const double v = this->blob_top_->cpu_data()[(n * C + c) * S + s];
        norm += v * v;
      }
      EXPECT_NEAR(norm, 1, 1e-4);
    }
  }
}

TYPED_TEST(NormalizeLayerTest, TestGradientAcrossSpatial) {
  typedef typename TypeParam::Dtype Dtype;
  LayerParameter layer_param;
  layer_param.mutable_normalize_param()->set_scale(3);
  NormalizeLayer<Dtype> layer(layer_param);
  GradientChecker<Dtype> checker(1e-2, 1e-2);
  checker.CheckGradientExhaustive(&layer, this->blob_bottom_vec_,
      this->blob_top_vec_);
}

TYPED_TEST(NormalizeLayerTest, TestGradientPerDescriptor) {
  typedef typename TypeParam::Dtype Dtype;
  LayerParameter layer_param;
  layer_param.mutable_normalize_param()->set_across_spatial(false);
  layer_param.mutable_normalize_param()->set_scale(2);
  NormalizeLayer<Dtype> layer(layer_param);
  GradientChecker<Dtype> checker(1e-2, 1e-2);
  checker.CheckGradientExhaustive(&layer, this->blob_bottom_vec_,
      this->blob_top_vec_);
}

}  // namespace caffe
