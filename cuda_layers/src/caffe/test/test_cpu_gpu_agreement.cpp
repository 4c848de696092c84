// CPU against GPU, layer by layer: the same inputs, parameters and top
// gradients through Forward/Backward on each device, for our layers (both
// descriptor layouts) and the layers the trunks use with Caffe's engine and,
// in a cuDNN build, with cuDNN. Each case prints one line
//   AGREEMENT|case|forward max |cpu - gpu|, max |cpu||backward ..., ...
// that bench/gpu_check.sh collects into its agreement table, and fails when
// the difference exceeds 1e-4 of the values' scale (float). Needs a GPU: in a
// CPU-only build the file is empty.
#ifndef CPU_ONLY
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

#include "caffe/blob.hpp"
#include "caffe/common.hpp"
#include "caffe/filler.hpp"
#include "caffe/layer.hpp"
#include "caffe/layer_factory.hpp"

#include "caffe/test/test_caffe_main.hpp"

namespace caffe {

namespace {

struct AgreementCase {
  const char* name;
  const char* layer;          // LayerParameter text
  std::vector<std::vector<int> > bottoms;
  std::vector<bool> propagate;  // which bottoms get gradients
};

std::vector<int> Shape(int a, int b, int c, int d) {
  std::vector<int> s(1, a);
  s.push_back(b);
  s.push_back(c);
  s.push_back(d);
  return s;
}

// max |a - b| and max |a| over two equal-sized arrays
void Compare(const float* a, const float* b, int n, double* diff,
             double* scale) {
  for (int i = 0; i < n; ++i) {
    *diff = std::max(*diff, std::fabs(static_cast<double>(a[i]) - b[i]));
    *scale = std::max(*scale, std::fabs(static_cast<double>(a[i])));
  }
}

struct Outcome {
  std::vector<std::vector<float> > tops, bottom_diffs, param_diffs;
};

// One pass on the current device with bottoms, params and top diffs made
// from fixed seeds, so that both devices see the same numbers.
Outcome RunOnce(const AgreementCase& c, const LayerParameter& param,
                std::vector<std::vector<float> >* params_in) {
  std::vector<Blob<float>*> bottom, top;
  for (size_t i = 0; i < c.bottoms.size(); ++i) {
    Blob<float>* b = new Blob<float>(c.bottoms[i]);
    // inputs away from 0 so that no ReLU kink or sign() falls between devices
    float* d = b->mutable_cpu_data();
    for (int j = 0; j < b->count(); ++j) {
      const float u = std::sin(1.7f * (j + 1) + 0.37f * (i + 1));
      d[j] = (u >= 0 ? 1 : -1) * (0.1f + std::fabs(u));
    }
    bottom.push_back(b);
  }
  const int ntop = std::max(param.top_size(), 1);
  for (int i = 0; i < ntop; ++i) {
    top.push_back(new Blob<float>());
  }
  shared_ptr<Layer<float> > layer = LayerRegistry<float>::CreateLayer(param);
  layer->SetUp(bottom, top);
  if (params_in->empty()) {   // the first device fills the parameters
    for (size_t p = 0; p < layer->blobs().size(); ++p) {
      FillerParameter f;
      f.set_min(-0.3);
      f.set_max(0.3);
      UniformFiller<float>(f).Fill(layer->blobs()[p].get());
      const Blob<float>& b = *layer->blobs()[p];
      params_in->push_back(std::vector<float>(b.cpu_data(),
                                              b.cpu_data() + b.count()));
    }
  } else {
    for (size_t p = 0; p < layer->blobs().size(); ++p) {
      std::copy((*params_in)[p].begin(), (*params_in)[p].end(),
                layer->blobs()[p]->mutable_cpu_data());
    }
  }
  layer->Forward(bottom, top);
  for (int i = 0; i < ntop; ++i) {
    float* g = top[i]->mutable_cpu_diff();
    for (int j = 0; j < top[i]->count(); ++j) {
      g[j] = layer->loss(i) != 0 ? layer->loss(i)
                                 : std::cos(0.9f * (j + 1) + 0.5f * i);
    }
  }
  std::vector<bool> propagate(c.propagate);
  layer->Backward(top, propagate, bottom);
  Outcome out;
  for (int i = 0; i < ntop; ++i) {
    out.tops.push_back(std::vector<float>(top[i]->cpu_data(),
                                          top[i]->cpu_data() + top[i]->count()));
  }
  for (size_t i = 0; i < bottom.size(); ++i) {
    if (propagate[i]) {
      out.bottom_diffs.push_back(std::vector<float>(bottom[i]->cpu_diff(),
          bottom[i]->cpu_diff() + bottom[i]->count()));
    }
  }
  for (size_t p = 0; p < layer->blobs().size(); ++p) {
    const Blob<float>& b = *layer->blobs()[p];
    out.param_diffs.push_back(std::vector<float>(b.cpu_diff(),
                                                 b.cpu_diff() + b.count()));
  }
  for (size_t i = 0; i < bottom.size(); ++i) delete bottom[i];
  for (size_t i = 0; i < top.size(); ++i) delete top[i];
  return out;
}

void CheckAgreement(const AgreementCase& c) {
  LayerParameter param;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(c.layer, &param))
      << c.name;
  std::vector<std::vector<float> > params;
  Caffe::set_mode(Caffe::CPU);
  const Outcome cpu = RunOnce(c, param, &params);
  Caffe::set_mode(Caffe::GPU);
  const Outcome gpu = RunOnce(c, param, &params);
  double fd = 0, fs = 0, bd = 0, bs = 0;
  for (size_t i = 0; i < cpu.tops.size(); ++i) {
    ASSERT_EQ(cpu.tops[i].size(), gpu.tops[i].size()) << c.name;
    Compare(&cpu.tops[i][0], &gpu.tops[i][0], cpu.tops[i].size(), &fd, &fs);
  }
  for (size_t i = 0; i < cpu.bottom_diffs.size(); ++i) {
    Compare(&cpu.bottom_diffs[i][0], &gpu.bottom_diffs[i][0],
            cpu.bottom_diffs[i].size(), &bd, &bs);
  }
  for (size_t i = 0; i < cpu.param_diffs.size(); ++i) {
    Compare(&cpu.param_diffs[i][0], &gpu.param_diffs[i][0],
            cpu.param_diffs[i].size(), &bd, &bs);
  }
  std::printf("AGREEMENT|%s|%.3g|%.3g|%.3g|%.3g\n", c.name, fd, fs, bd, bs);
  EXPECT_LE(fd, 1e-4 * std::max(fs, 1.0)) << c.name << " forward";
  EXPECT_LE(bd, 1e-4 * std::max(bs, 1.0)) << c.name << " backward";
  Caffe::set_mode(Caffe::CPU);
}

std::vector<AgreementCase> Cases() {
  std::vector<AgreementCase> cases;
  const int N = 4, C = 16, K = 7, T = 50;
  const std::vector<int> sets = Shape(N, C, 1, T), latent = Shape(N, K, 1, T);
  const std::vector<int> cols = Shape(1, C, 1, N * T);
  const std::vector<int> lcols = Shape(1, K, 1, N * T);
  AgreementCase c;
  const bool t1[] = {true}, t2[] = {true, true}, t3[] = {true, true, true};
  const bool t4[] = {true, true, true, false}, f2[] = {true, false};
#define ADD(NAME, TEXT, PROP, ...) do { \
    const std::vector<int> shapes[] = {__VA_ARGS__}; \
    c.name = NAME; c.layer = TEXT; \
    c.bottoms.assign(shapes, shapes + sizeof(shapes) / sizeof(shapes[0])); \
    c.propagate.assign(PROP, PROP + c.bottoms.size()); \
    cases.push_back(c); } while (0)
  ADD("FisherVector (sets)", "type: 'FisherVector' top: 'fv'", t3,
      sets, sets, latent);
  ADD("FisherVector (columns)", "type: 'FisherVector' top: 'fv'", t4,
      cols, cols, lcols, sets);
  ADD("GaussianReconstructionLoss",
      "type: 'GaussianReconstructionLoss' top: 'loss' loss_weight: 1", t2,
      sets, sets);
  ADD("GaussianSample (TEST)", "type: 'GaussianSample' top: 'z' "
      "top: 'reg' loss_weight: 0 loss_weight: 1 phase: TEST", t1, latent);
  ADD("Normalize", "type: 'Normalize' top: 'y'", t1, sets);
  ADD("L2Normalize", "type: 'L2Normalize' top: 'y'", t1, Shape(N, 300, 1, 1));
  ADD("SignedSqrt", "type: 'SignedSqrt' top: 'y'", t1, Shape(N, 300, 1, 1));
  ADD("SetsToColumns", "type: 'SetsToColumns' top: 'y'", t1, sets);
  ADD("ColumnsToSets", "type: 'ColumnsToSets' top: 'y'", f2, lcols, sets);
  return cases;
}

}  // namespace

class CPUGPUAgreementTest : public ::testing::Test {};

TEST_F(CPUGPUAgreementTest, OurLayers) {
  const std::vector<AgreementCase> cases = Cases();
  ASSERT_EQ(9u, cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    CheckAgreement(cases[i]);
  }
}

TEST_F(CPUGPUAgreementTest, TrunkLayers) {
  const char* engines[] = {"CAFFE", "CUDNN"};
  const std::vector<int> map = Shape(2, 16, 14, 14);
  const bool t1[] = {true};
  for (int e = 0; e < 2; ++e) {
#ifndef USE_CUDNN
    if (e == 1) break;
#endif
    const std::string eng = engines[e];
    const std::string texts[] = {
      "type: 'Convolution' top: 'y' convolution_param { num_output: 32 "
      "kernel_size: 3 pad: 1 engine: " + eng + " weight_filler { type: "
      "'gaussian' std: 0.1 } bias_filler { type: 'constant' value: 0.1 } }",
      "type: 'Pooling' top: 'y' pooling_param { pool: MAX kernel_size: 2 "
      "stride: 2 engine: " + eng + " }",
      "type: 'ReLU' top: 'y' relu_param { engine: " + eng + " }",
      "type: 'Softmax' top: 'y' softmax_param { engine: " + eng + " }"};
    const char* names[] = {"Convolution", "Pooling", "ReLU", "Softmax"};
    for (int i = 0; i < 4; ++i) {
      const std::string name = std::string(names[i]) + " (" + eng + ")";
      AgreementCase c;
      c.name = name.c_str();
      c.layer = texts[i].c_str();
      c.bottoms.assign(1, map);
      c.propagate.assign(t1, t1 + 1);
      CheckAgreement(c);
    }
  }
}

}  // namespace caffe
#endif  // CPU_ONLY
