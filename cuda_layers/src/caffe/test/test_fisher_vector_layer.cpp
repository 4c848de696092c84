#include <cmath>
#include <vector>

#include "gtest/gtest.h"

#include "caffe/blob.hpp"
#include "caffe/common.hpp"
#include "caffe/filler.hpp"
#include "caffe/layers/fisher_vector_layer.hpp"

#include "caffe/test/test_caffe_main.hpp"
#include "caffe/test/test_gradient_check_util.hpp"

namespace caffe {

template <typename TypeParam>
class FisherVectorLayerTest : public MultiDeviceTest<TypeParam> {
  typedef typename TypeParam::Dtype Dtype;

 protected:
  FisherVectorLayerTest()
      : blob_x_(new Blob<Dtype>(kNum, kChannels, 1, kT)),
        blob_mu_(new Blob<Dtype>(kNum, kChannels, 1, kT)),
        blob_z_(new Blob<Dtype>(kNum, kLatent, 1, kT)),
        blob_top_(new Blob<Dtype>()) {
    Caffe::set_random_seed(1701);
    FillerParameter filler_param;
    filler_param.set_min(-1);
    filler_param.set_max(1);
    UniformFiller<Dtype> filler(filler_param);
    filler.Fill(blob_x_);
    filler.Fill(blob_z_);
    // mu_x away from the ReLU kink at 0, about half of it switched off.
    filler.Fill(blob_mu_);
    Dtype* mu = blob_mu_->mutable_cpu_data();
    for (int i = 0; i < blob_mu_->count(); ++i) {
      mu[i] = (mu[i] >= 0 ? Dtype(1) : Dtype(-1)) * (Dtype(0.2) + std::fabs(mu[i]));
    }
    blob_bottom_vec_.push_back(blob_x_);
    blob_bottom_vec_.push_back(blob_mu_);
    blob_bottom_vec_.push_back(blob_z_);
    blob_top_vec_.push_back(blob_top_);
  }
  virtual ~FisherVectorLayerTest() {
    delete blob_x_; delete blob_mu_; delete blob_z_; delete blob_top_;
  }

  // Random log sigma_x in [-0.3, 0.3] and FIM scale in [0.5, 1.5].
  void RandomizeParams(Layer<Dtype>* layer) {
    FillerParameter p;
    p.set_min(-0.3);
    p.set_max(0.3);
    UniformFiller<Dtype>(p).Fill(layer->blobs()[0].get());
    p.set_min(0.5);
    p.set_max(1.5);
    UniformFiller<Dtype>(p).Fill(layer->blobs()[1].get());
  }

  enum { kNum = 2, kChannels = 3, kLatent = 2, kT = 4 };
  Blob<Dtype>* const blob_x_;
  Blob<Dtype>* const blob_mu_;
  Blob<Dtype>* const blob_z_;
  Blob<Dtype>* const blob_top_;
  vector<Blob<Dtype>*> blob_bottom_vec_;
  vector<Blob<Dtype>*> blob_top_vec_;
};

TYPED_TEST_CASE(FisherVectorLayerTest, TestDtypesAndDevices);

TYPED_TEST(FisherVectorLayerTest, TestSetUp) {
  typedef typename TypeParam::Dtype Dtype;
  LayerParameter layer_param;
  FisherVectorLayer<Dtype> layer(layer_param);
  layer.SetUp(this->blob_bottom_vec_, this->blob_top_vec_);
  EXPECT_EQ(this->blob_top_->num_axes(), 2);
  EXPECT_EQ(this->blob_top_->shape(0), this->kNum);
  EXPECT_EQ(this->blob_top_->shape(1), this->kChannels * (this->kLatent + 1));
  ASSERT_EQ(layer.blobs().size(), 2);
  EXPECT_EQ(layer.blobs()[0]->count(), this->kChannels);
  EXPECT_EQ(layer.blobs()[1]->count(), this->kChannels * (this->kLatent + 1));
  for (int i = 0; i < layer.blobs()[1]->count(); ++i) {
    EXPECT_EQ(layer.blobs()[1]->cpu_data()[i], Dtype(1));  // FIM scale = 1
  }
}

// Eq. 11 evaluated directly, element by element.
TYPED_TEST(FisherVectorLayerTest, TestForwardMatchesEquation11) {
  typedef typename TypeParam::Dtype Dtype;
  LayerParameter layer_param;
  FisherVectorLayer<Dtype> layer(layer_param);
  layer.SetUp(this->blob_bottom_vec_, this->blob_top_vec_);
  this->RandomizeParams(&layer);
  layer.Forward(this->blob_bottom_vec_, this->blob_top_vec_);
  const int C = this->kChannels, K = this->kLatent, T = this->kT;
  const Dtype* x = this->blob_x_->cpu_data();
  const Dtype* mu = this->blob_mu_->cpu_data();
  const Dtype* z = this->blob_z_->cpu_data();
  const Dtype* log_sigma = layer.blobs()[0]->cpu_data();
  const Dtype* scale = layer.blobs()[1]->cpu_data();
  const Dtype* fv = this->blob_top_->cpu_data();
  for (int n = 0; n < this->kNum; ++n) {
    for (int c = 0; c < C; ++c) {
      const double var = std::exp(2.0 * log_sigma[c]);
      for (int k = 0; k <= K; ++k) {
        double expected = 0;
        for (int t = 0; t < T; ++t) {
          const int i = (n * C + c) * T + t;
          const double active = mu[i] > 0 ? 1.0 : 0.0;
          const double zk = k < K ? z[(n * K + k) * T + t] : 1.0;
          expected += (mu[i] - x[i]) / var * active * zk;
        }
        expected *= scale[c * (K + 1) + k];
        EXPECT_NEAR(fv[n * C * (K + 1) + c * (K + 1) + k], expected,
                    1e-4 * (1 + std::fabs(expected)));
      }
    }
  }
}

// The columns layout: x, mu_x, z as 1 x C x 1 x (N T), the sets' shape
// from a fourth bottom; the same FV as from the sets.
template <typename Dtype>
void ToColumns(const Blob<Dtype>& sets, Blob<Dtype>* columns) {
  const int n = sets.shape(0), c = sets.shape(1), t = sets.count(2);
  columns->Reshape(1, c, 1, n * t);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < c; ++j) {
      for (int k = 0; k < t; ++k) {
        columns->mutable_cpu_data()[j * n * t + i * t + k] =
            sets.cpu_data()[(i * c + j) * t + k];
      }
    }
  }
}

// The bottoms of the columns layout: x, mu_x, z as columns and the sets.
template <typename Dtype>
vector<Blob<Dtype>*> ColumnsBottoms(const vector<Blob<Dtype>*>& sets,
    Blob<Dtype>* x, Blob<Dtype>* mu, Blob<Dtype>* z) {
  ToColumns(*sets[0], x);
  ToColumns(*sets[1], mu);
  ToColumns(*sets[2], z);
  vector<Blob<Dtype>*> bottom;
  bottom.push_back(x);
  bottom.push_back(mu);
  bottom.push_back(z);
  bottom.push_back(sets[0]);
  return bottom;
}

TYPED_TEST(FisherVectorLayerTest, TestColumnsLayoutMatchesSets) {
  typedef typename TypeParam::Dtype Dtype;
  for (int randomize = 0; randomize < 2; ++randomize) {
    LayerParameter layer_param;
    FisherVectorLayer<Dtype> sets_layer(layer_param);
    sets_layer.SetUp(this->blob_bottom_vec_, this->blob_top_vec_);
    if (randomize) this->RandomizeParams(&sets_layer);  // else unit scale
    sets_layer.Forward(this->blob_bottom_vec_, this->blob_top_vec_);
    Blob<Dtype> x, mu, z, fv;
    vector<Blob<Dtype>*> bottom =
        ColumnsBottoms(this->blob_bottom_vec_, &x, &mu, &z);
    vector<Blob<Dtype>*> top(1, &fv);
    FisherVectorLayer<Dtype> columns_layer(layer_param);
    columns_layer.SetUp(bottom, top);
    for (int b = 0; b < 2; ++b) {
      columns_layer.blobs()[b]->CopyFrom(*sets_layer.blobs()[b]);
    }
    columns_layer.Forward(bottom, top);
    ASSERT_TRUE(fv.shape() == this->blob_top_->shape());
    for (int i = 0; i < fv.count(); ++i) {
      EXPECT_NEAR(fv.cpu_data()[i], this->blob_top_->cpu_data()[i],
                  1e-5 * (1 + std::fabs(this->blob_top_->cpu_data()[i])));
    }
  }
}

TYPED_TEST(FisherVectorLayerTest, TestGradientColumnsLayout) {
  typedef typename TypeParam::Dtype Dtype;
  Blob<Dtype> x, mu, z, fv;
  vector<Blob<Dtype>*> bottom =
      ColumnsBottoms(this->blob_bottom_vec_, &x, &mu, &z);
  vector<Blob<Dtype>*> top(1, &fv);
  LayerParameter layer_param;
  FisherVectorLayer<Dtype> layer(layer_param);
  layer.SetUp(bottom, top);
  this->RandomizeParams(&layer);
  GradientChecker<Dtype> checker(1e-2, 1e-3);
  for (int b = 0; b < 3; ++b) {  // the reference set's values do not matter
    checker.CheckGradientExhaustive(&layer, bottom, top, b);
  }
}

TYPED_TEST(FisherVectorLayerTest, TestGradient) {
  typedef typename TypeParam::Dtype Dtype;
  LayerParameter layer_param;
  FisherVectorLayer<Dtype> layer(layer_param);
  layer.SetUp(this->blob_bottom_vec_, this->blob_top_vec_);
  this->RandomizeParams(&layer);
  GradientChecker<Dtype> checker(1e-2, 1e-3);
  checker.CheckGradientExhaustive(&layer, this->blob_bottom_vec_,
      this->blob_top_vec_);
}

}  // namespace caffe
