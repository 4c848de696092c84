#include <vector>

#include "gtest/gtest.h"

#include "caffe/blob.hpp"
#include "caffe/common.hpp"
#include "caffe/filler.hpp"
#include "caffe/layers/columns_to_sets_layer.hpp"
#include "caffe/layers/sets_to_columns_layer.hpp"

#include "caffe/test/test_caffe_main.hpp"
#include "caffe/test/test_gradient_check_util.hpp"

namespace caffe {

template <typename TypeParam>
class ColumnsToSetsLayerTest : public MultiDeviceTest<TypeParam> {
  typedef typename TypeParam::Dtype Dtype;

 protected:
  // Columns of 2 channels for 3 sets of 5 descriptors; the reference set
  // has 4 channels (only its N and T matter).
  ColumnsToSetsLayerTest()
      : blob_columns_(new Blob<Dtype>(1, 2, 1, 15)),
        blob_reference_(new Blob<Dtype>(3, 4, 1, 5)),
        blob_top_(new Blob<Dtype>()) {
    Caffe::set_random_seed(1701);
    FillerParameter filler_param;
    GaussianFiller<Dtype>(filler_param).Fill(blob_columns_);
    GaussianFiller<Dtype>(filler_param).Fill(blob_reference_);
    blob_bottom_vec_.push_back(blob_columns_);
    blob_bottom_vec_.push_back(blob_reference_);
    blob_top_vec_.push_back(blob_top_);
  }
  virtual ~ColumnsToSetsLayerTest() {
    delete blob_columns_; delete blob_reference_; delete blob_top_;
  }

  Blob<Dtype>* const blob_columns_;
  Blob<Dtype>* const blob_reference_;
  Blob<Dtype>* const blob_top_;
  vector<Blob<Dtype>*> blob_bottom_vec_;
  vector<Blob<Dtype>*> blob_top_vec_;
};

TYPED_TEST_CASE(ColumnsToSetsLayerTest, TestDtypesAndDevices);

TYPED_TEST(ColumnsToSetsLayerTest, TestForward) {
  typedef typename TypeParam::Dtype Dtype;
  LayerParameter layer_param;
  ColumnsToSetsLayer<Dtype> layer(layer_param);
  layer.SetUp(this->blob_bottom_vec_, this->blob_top_vec_);
  EXPECT_EQ(this->blob_top_->shape_string(), "3 2 1 5 (30)");
  layer.Forward(this->blob_bottom_vec_, this->blob_top_vec_);
  for (int n = 0; n < 3; ++n) {
    for (int c = 0; c < 2; ++c) {
      for (int t = 0; t < 5; ++t) {
        EXPECT_EQ(this->blob_top_->data_at(n, c, 0, t),
                  this->blob_columns_->data_at(0, c, 0, n * 5 + t));
      }
    }
  }
}

TYPED_TEST(ColumnsToSetsLayerTest, TestInverseOfSetsToColumns) {
  typedef typename TypeParam::Dtype Dtype;
  LayerParameter layer_param;
  Blob<Dtype> columns, sets;
  vector<Blob<Dtype>*> to_bottom(1, this->blob_reference_);
  vector<Blob<Dtype>*> to_top(1, &columns);
  SetsToColumnsLayer<Dtype> to_columns(layer_param);
  to_columns.SetUp(to_bottom, to_top);
  to_columns.Forward(to_bottom, to_top);
  vector<Blob<Dtype>*> back_bottom;
  back_bottom.push_back(&columns);
  back_bottom.push_back(this->blob_reference_);
  vector<Blob<Dtype>*> back_top(1, &sets);
  ColumnsToSetsLayer<Dtype> to_sets(layer_param);
  to_sets.SetUp(back_bottom, back_top);
  to_sets.Forward(back_bottom, back_top);
  ASSERT_TRUE(sets.shape() == this->blob_reference_->shape());
  for (int i = 0; i < sets.count(); ++i) {
    EXPECT_EQ(sets.cpu_data()[i], this->blob_reference_->cpu_data()[i]);
  }
}

TYPED_TEST(ColumnsToSetsLayerTest, TestGradient) {
  typedef typename TypeParam::Dtype Dtype;
  LayerParameter layer_param;
  ColumnsToSetsLayer<Dtype> layer(layer_param);
  GradientChecker<Dtype> checker(1e-2, 1e-3);
  // bottom 0 only: the reference set's values do not reach the top.
  checker.CheckGradientExhaustive(&layer, this->blob_bottom_vec_,
      this->blob_top_vec_, 0);
}

}  // namespace caffe
