#include <cmath>
#include <vector>

#include "gtest/gtest.h"

#include "caffe/blob.hpp"
#include "caffe/common.hpp"
#include "caffe/filler.hpp"
#include "caffe/layers/l2_normalize_layer.hpp"

#include "caffe/test/test_caffe_main.hpp"
#include "caffe/test/test_gradient_check_util.hpp"

namespace caffe {

template <typename TypeParam>
class L2NormalizeLayerTest : public MultiDeviceTest<TypeParam> {
  typedef typename TypeParam::Dtype Dtype;

 protected:
  L2NormalizeLayerTest()
      : blob_bottom_(new Blob<Dtype>(vector<int>{3, 7})),
        blob_top_(new Blob<Dtype>()) {
    Caffe::set_random_seed(1701);
    FillerParameter filler_param;
    filler_param.set_min(-1);
    filler_param.set_max(1);
    UniformFiller<Dtype>(filler_param).Fill(blob_bottom_);
    blob_bottom_vec_.push_back(blob_bottom_);
    blob_top_vec_.push_back(blob_top_);
  }
  virtual ~L2NormalizeLayerTest() { delete blob_bottom_; delete blob_top_; }

  Blob<Dtype>* const blob_bottom_;
  Blob<Dtype>* const blob_top_;
  vector<Blob<Dtype>*> blob_bottom_vec_;
  vector<Blob<Dtype>*> blob_top_vec_;
};

TYPED_TEST_CASE(L2NormalizeLayerTest, TestDtypesAndDevices);

TYPED_TEST(L2NormalizeLayerTest, TestForwardUnitNormAndDirection) {
  typedef typename TypeParam::Dtype Dtype;
  LayerParameter layer_param;
  L2NormalizeLayer<Dtype> layer(layer_param);
  layer.SetUp(this->blob_bottom_vec_, this->blob_top_vec_);
  layer.Forward(this->blob_bottom_vec_, this->blob_top_vec_);
  for (int n = 0; n < 3; ++n) {
    double norm_x = 0, norm_y = 0, dot = 0;
    for (int j = 0; j < 7; ++j) {
      const double x = this->blob_bottom_->cpu_data()[n * 7 + j];
      const double y = this->blob_top_->cpu_data()[n * 7 + j];
      norm_x += x * x;
      norm_y += y * y;
      dot += x * y;
    }
    EXPECT_NEAR(norm_y, 1, 1e-5);
    EXPECT_NEAR(dot, std::sqrt(norm_x), 1e-4);  // same direction
  }
}

TYPED_TEST(L2NormalizeLayerTest, TestGradient) {
  typedef typename TypeParam::Dtype Dtype;
  LayerParameter layer_param;
  L2NormalizeLayer<Dtype> layer(layer_param);
  GradientChecker<Dtype> checker(1e-2, 1e-2);
  checker.CheckGradientExhaustive(&layer, this->blob_bottom_vec_,
      this->blob_top_vec_);
}

}  // namespace caffe
