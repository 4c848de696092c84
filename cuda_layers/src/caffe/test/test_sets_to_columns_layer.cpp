#include <vector>

#include "gtest/gtest.h"

#include "caffe/blob.hpp"
#include "caffe/common.hpp"
#include "caffe/filler.hpp"
#include "caffe/layers/sets_to_columns_layer.hpp"

#include "caffe/test/test_caffe_main.hpp"
#include "caffe/test/test_gradient_check_util.hpp"

namespace caffe {

template <typename TypeParam>
class SetsToColumnsLayerTest : public MultiDeviceTest<TypeParam> {
  typedef typename TypeParam::Dtype Dtype;

 protected:
  SetsToColumnsLayerTest()
      : blob_bottom_(new Blob<Dtype>(3, 4, 1, 5)),
        blob_top_(new Blob<Dtype>()) {
    Caffe::set_random_seed(1701);
    FillerParameter filler_param;
    GaussianFiller<Dtype>(filler_param).Fill(blob_bottom_);
    blob_bottom_vec_.push_back(blob_bottom_);
    blob_top_vec_.push_back(blob_top_);
  }
  virtual ~SetsToColumnsLayerTest() { delete blob_bottom_; delete blob_top_; }

  Blob<Dtype>* const blob_bottom_;
  Blob<Dtype>* const blob_top_;
  vector<Blob<Dtype>*> blob_bottom_vec_;
  vector<Blob<Dtype>*> blob_top_vec_;
};

TYPED_TEST_CASE(SetsToColumnsLayerTest, TestDtypesAndDevices);

TYPED_TEST(SetsToColumnsLayerTest, TestForward) {
  typedef typename TypeParam::Dtype Dtype;
  LayerParameter layer_param;
  SetsToColumnsLayer<Dtype> layer(layer_param);
  layer.SetUp(this->blob_bottom_vec_, this->blob_top_vec_);
  ASSERT_EQ(this->blob_top_->num_axes(), 4);
  EXPECT_EQ(this->blob_top_->shape(0), 1);
  EXPECT_EQ(this->blob_top_->shape(1), 4);
  EXPECT_EQ(this->blob_top_->shape(2), 1);
  EXPECT_EQ(this->blob_top_->shape(3), 15);
  layer.Forward(this->blob_bottom_vec_, this->blob_top_vec_);
  // Descriptor t of set n is column n * T + t.
  for (int n = 0; n < 3; ++n) {
    for (int c = 0; c < 4; ++c) {
      for (int t = 0; t < 5; ++t) {
        EXPECT_EQ(this->blob_top_->data_at(0, c, 0, n * 5 + t),
                  this->blob_bottom_->data_at(n, c, 0, t));
      }
    }
  }
}

TYPED_TEST(SetsToColumnsLayerTest, TestSpatialDescriptorAxes) {
  // A trunk's map N x C x H x W: its H W positions are the descriptors.
  typedef typename TypeParam::Dtype Dtype;
  Blob<Dtype> map(2, 3, 2, 4);
  FillerParameter filler_param;
  GaussianFiller<Dtype>(filler_param).Fill(&map);
  vector<Blob<Dtype>*> bottom(1, &map);
  LayerParameter layer_param;
  SetsToColumnsLayer<Dtype> layer(layer_param);
  layer.SetUp(bottom, this->blob_top_vec_);
  EXPECT_EQ(this->blob_top_->shape(3), 16);
  layer.Forward(bottom, this->blob_top_vec_);
  for (int n = 0; n < 2; ++n) {
    for (int c = 0; c < 3; ++c) {
      for (int h = 0; h < 2; ++h) {
        for (int w = 0; w < 4; ++w) {
          EXPECT_EQ(this->blob_top_->data_at(0, c, 0, n * 8 + h * 4 + w),
                    map.data_at(n, c, h, w));
        }
      }
    }
  }
}

TYPED_TEST(SetsToColumnsLayerTest, TestGradient) {
  typedef typename TypeParam::Dtype Dtype;
  LayerParameter layer_param;
  SetsToColumnsLayer<Dtype> layer(layer_param);
  GradientChecker<Dtype> checker(1e-2, 1e-3);
  checker.CheckGradientExhaustive(&layer, this->blob_bottom_vec_,
      this->blob_top_vec_);
}

}  // namespace caffe
