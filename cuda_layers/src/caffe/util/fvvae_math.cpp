#include <cstring>

#include "caffe/util/fvvae_math.hpp"

namespace caffe {

template <typename Dtype>
void fvvae_channel_dot_cpu(int num, int channels, int inner, const Dtype* a,
    const Dtype* b, Dtype beta, Dtype* out) {
  for (int c = 0; c < channels; ++c) {
    Dtype acc = 0;
    for (int n = 0; n < num; ++n) {
      const int base = (n * channels + c) * inner;
      for (int t = 0; t < inner; ++t) {
        acc += b ? a[base + t] * b[base + t] : a[base + t];
      }
    }
    out[c] = (beta == Dtype(0) ? Dtype(0) : beta * out[c]) + acc;
  }
}

template <typename Dtype>
void fvvae_position_dot_cpu(int num, int channels, int inner, const Dtype* a,
    const Dtype* b, Dtype* out) {
  for (int n = 0; n < num; ++n) {
    for (int s = 0; s < inner; ++s) {
      Dtype acc = 0;
      for (int c = 0; c < channels; ++c) {
        const int i = (n * channels + c) * inner + s;
        acc += a[i] * b[i];
      }
      out[n * inner + s] = acc;
    }
  }
}

template <typename Dtype>
void fvvae_sets_to_columns_cpu(int num, int channels, int inner,
    const Dtype* sets, Dtype* columns) {
  const int row = num * inner;
  for (int n = 0; n < num; ++n) {
    for (int c = 0; c < channels; ++c) {
      std::memcpy(columns + c * row + n * inner,
                  sets + (n * channels + c) * inner, sizeof(Dtype) * inner);
    }
  }
}

template <typename Dtype>
void fvvae_columns_to_sets_cpu(int num, int channels, int inner,
    const Dtype* columns, Dtype* sets) {
  const int row = num * inner;
  for (int n = 0; n < num; ++n) {
    for (int c = 0; c < channels; ++c) {
      std::memcpy(sets + (n * channels + c) * inner,
                  columns + c * row + n * inner, sizeof(Dtype) * inner);
    }
  }
}

template <>
void fvvae_cpu_gemm_ld<float>(CBLAS_TRANSPOSE trans_a, CBLAS_TRANSPOSE trans_b,
    int m, int n, int k, float alpha, const float* a, int lda, const float* b,
    int ldb, float beta, float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb,
              beta, c, ldc);
}

template <>
void fvvae_cpu_gemm_ld<double>(CBLAS_TRANSPOSE trans_a, CBLAS_TRANSPOSE trans_b,
    int m, int n, int k, double alpha, const double* a, int lda,
    const double* b, int ldb, double beta, double* c, int ldc) {
  cblas_dgemm(CblasRowMajor, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb,
              beta, c, ldc);
}

template void fvvae_channel_dot_cpu<float>(int, int, int, const float*,
    const float*, float, float*);
template void fvvae_channel_dot_cpu<double>(int, int, int, const double*,
    const double*, double, double*);
template void fvvae_position_dot_cpu<float>(int, int, int, const float*,
    const float*, float*);
template void fvvae_position_dot_cpu<double>(int, int, int, const double*,
    const double*, double*);

template void fvvae_sets_to_columns_cpu<float>(int, int, int, const float*,
    float*);
template void fvvae_sets_to_columns_cpu<double>(int, int, int, const double*,
    double*);
template void fvvae_columns_to_sets_cpu<float>(int, int, int, const float*,
    float*);
template void fvvae_columns_to_sets_cpu<double>(int, int, int, const double*,
    double*);

}  // namespace caffe
