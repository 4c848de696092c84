// How the cuDNN convolution layers choose an algorithm (patch 0010,
// caffe/util/cudnn_algo.hpp), tested without cuDNN or a GPU: a ranked list
// like the one cudnnGetConvolution*Algorithm_v7 returns, the workspace limit
// from the environment, and the once-per-shape cache.
#include <cstdlib>
#include <vector>

#include "gtest/gtest.h"

#include "caffe/util/cudnn_algo.hpp"

namespace caffe {

namespace {

enum FakeStatus { kSuccess = 0, kNotSupported = 9 };
enum FakeMath { kDefaultMath = 0, kTensorOpMath = 1, kFmaMath = 3 };

// the fields of cudnnConvolutionFwdAlgoPerf_t that the choice reads
struct FakePerf {
  int algo;
  FakeStatus status;
  size_t memory;
  FakeMath mathType;
};

const size_t kMB = 1024 * 1024;

}  // namespace

TEST(CuDNNAlgoChoiceTest, TakesTheFirstRankedThatFitsTheLimit) {
  // ranked fastest first; the fastest needs 300 MB (the memory blow-up)
  const FakePerf perf[] = {{6, kSuccess, 300 * kMB, kFmaMath},
                           {7, kSuccess, 20 * kMB, kFmaMath},
                           {1, kSuccess, 4 * kMB, kFmaMath},
                           {0, kSuccess, 0, kFmaMath}};
  EXPECT_EQ(2, cudnn::FirstFittingAlgo(perf, 4, 8 * kMB, kSuccess, kFmaMath));
  EXPECT_EQ(1, cudnn::FirstFittingAlgo(perf, 4, 64 * kMB, kSuccess, kFmaMath));
  EXPECT_EQ(0, cudnn::FirstFittingAlgo(perf, 4, 300 * kMB, kSuccess, kFmaMath));
  EXPECT_EQ(3, cudnn::FirstFittingAlgo(perf, 4, 0, kSuccess, kFmaMath));
}

TEST(CuDNNAlgoChoiceTest, SkipsFailedEntriesAndOtherMathTypes) {
  // a failed query entry and a TF32 tensor-op entry come first; neither counts
  const FakePerf perf[] = {{2, kNotSupported, 0, kFmaMath},
                           {1, kSuccess, 0, kTensorOpMath},
                           {5, kSuccess, 1 * kMB, kFmaMath}};
  EXPECT_EQ(2, cudnn::FirstFittingAlgo(perf, 3, 8 * kMB, kSuccess, kFmaMath));
  EXPECT_EQ(1, cudnn::FirstFittingAlgo(perf, 3, 8 * kMB, kSuccess,
                                       kTensorOpMath));
}

TEST(CuDNNAlgoChoiceTest, NoneFitsGivesMinusOne) {
  const FakePerf perf[] = {{6, kSuccess, 300 * kMB, kFmaMath},
                           {4, kNotSupported, 0, kFmaMath}};
  EXPECT_EQ(-1, cudnn::FirstFittingAlgo(perf, 2, 8 * kMB, kSuccess, kFmaMath));
  EXPECT_EQ(-1, cudnn::FirstFittingAlgo(perf, 0, 8 * kMB, kSuccess, kFmaMath));
  // only the entries the query returned are read
  EXPECT_EQ(-1, cudnn::FirstFittingAlgo(perf, 1, 8 * kMB, kSuccess, kFmaMath));
}

TEST(CuDNNAlgoChoiceTest, WorkspaceLimitFromTheEnvironment) {
  unsetenv("CAFFE_CUDNN_WORKSPACE_LIMIT_MB");
  EXPECT_EQ(8 * kMB, cudnn::WorkspaceLimitBytes());
  EXPECT_EQ(32 * kMB, cudnn::WorkspaceLimitBytes(32));
  setenv("CAFFE_CUDNN_WORKSPACE_LIMIT_MB", "256", 1);
  EXPECT_EQ(256 * kMB, cudnn::WorkspaceLimitBytes());
  // what is not a positive number leaves the default
  const char* bad[] = {"", "0", "-5", "lots", "64MB"};
  for (int i = 0; i < 5; ++i) {
    setenv("CAFFE_CUDNN_WORKSPACE_LIMIT_MB", bad[i], 1);
    EXPECT_EQ(8 * kMB, cudnn::WorkspaceLimitBytes()) << "'" << bad[i] << "'";
  }
  unsetenv("CAFFE_CUDNN_WORKSPACE_LIMIT_MB");
}

TEST(CuDNNAlgoChoiceTest, ChosenOncePerShape) {
  cudnn::AlgoShapeCache cache;
  std::vector<int> a(4, 1), b(4, 1);
  a[0] = 128; b[0] = 64;
  EXPECT_TRUE(cache.Changed(0, a));    // first Reshape: choose
  EXPECT_FALSE(cache.Changed(0, a));   // every Forward reshapes: keep
  EXPECT_TRUE(cache.Changed(1, a));    // another bottom has its own shape
  EXPECT_TRUE(cache.Changed(0, b));    // a smaller batch: choose again
  EXPECT_FALSE(cache.Changed(1, a));
  EXPECT_TRUE(cache.Changed(0, a));
}

}  // namespace caffe
