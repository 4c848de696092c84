#ifndef CAFFE_UTIL_FVVAE_CHECKS_HPP_
#define CAFFE_UTIL_FVVAE_CHECKS_HPP_

// Input checks and loss normalisation shared by the FV-VAE layers. Every
// failure names the layer (type and name) and the shapes involved.

#include <string>

#include "caffe/blob.hpp"
#include "caffe/common.hpp"
#include "caffe/proto/caffe.pb.h"

namespace caffe {

inline std::string fvvae_layer_id(const LayerParameter& p) {
  return p.type() + " layer '" + p.name() + "'";
}

// A descriptor set is N x C x 1 x T (any axes after C are the T descriptors).
template <typename Dtype>
void fvvae_check_descriptor_set(const LayerParameter& p, const char* what,
    const Blob<Dtype>& b) {
  CHECK_GE(b.num_axes(), 3) << fvvae_layer_id(p) << ": " << what << " "
      << b.shape_string() << " must be a descriptor set N x C x 1 x T";
  CHECK_GT(b.count(2), 0) << fvvae_layer_id(p) << ": " << what << " "
      << b.shape_string() << " holds no descriptors (T = 0)";
}

template <typename Dtype>
void fvvae_check_same_shape(const LayerParameter& p, const char* what_a,
    const Blob<Dtype>& a, const char* what_b, const Blob<Dtype>& b) {
  CHECK(a.shape() == b.shape()) << fvvae_layer_id(p) << ": " << what_a << " "
      << a.shape_string() << " and " << what_b << " " << b.shape_string()
      << " must have the same shape";
}

// A parameter blob that came from the layer definition, a shared parameter
// or trained weights must have the size the bottoms imply.
template <typename Dtype>
void fvvae_check_param(const LayerParameter& p, const char* what,
    const Blob<Dtype>& blob, int expected) {
  CHECK_EQ(blob.count(), expected) << fvvae_layer_id(p) << ": parameter "
      << what << " has shape " << blob.shape_string() << " but the bottoms "
      << "need " << expected << " values";
}

// The divisor of the FV-VAE losses, which are sums over descriptors:
//   BATCH_SIZE (the default when loss_param sets no normalization): N, so the
//     loss is per image or frame, the sum of eq. 4 over its descriptor set;
//   VALID and FULL: N * T, per descriptor;
//   NONE: 1.
inline double fvvae_loss_normalizer(const LossParameter& lp, int num,
    int descriptors) {
  if (!lp.has_normalization()) return num;
  switch (lp.normalization()) {
    case LossParameter_NormalizationMode_FULL:
    case LossParameter_NormalizationMode_VALID:
      return static_cast<double>(num) * descriptors;
    case LossParameter_NormalizationMode_BATCH_SIZE:
      return num;
    case LossParameter_NormalizationMode_NONE:
      return 1;
    default:
      LOG(FATAL) << "Unknown normalization mode "
          << LossParameter_NormalizationMode_Name(lp.normalization());
  }
  return num;
}

}  // namespace caffe

#endif  // CAFFE_UTIL_FVVAE_CHECKS_HPP_
