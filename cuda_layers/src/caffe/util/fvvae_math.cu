#include "caffe/common.hpp"
#include "caffe/util/fvvae_math.hpp"

namespace caffe {

static const int kReduceThreads = 256;

// One block per channel c: sums a[n,c,t] * b[n,c,t] over n and t.
template <typename Dtype>
__global__ void ChannelDotKernel(const int num, const int channels,
    const int inner, const Dtype* a, const Dtype* b, const Dtype beta,
    Dtype* out) {
  __shared__ Dtype partial[kReduceThreads];
  const int c = blockIdx.x;
  const int total = num * inner;
  Dtype acc = 0;
  for (int j = threadIdx.x; j < total; j += blockDim.x) {
    const int n = j / inner;
    const int i = (n * channels + c) * inner + (j - n * inner);
    acc += b ? a[i] * b[i] : a[i];
  }
  partial[threadIdx.x] = acc;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) partial[threadIdx.x] += partial[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    out[c] = (beta == Dtype(0) ? Dtype(0) : beta * out[c]) + partial[0];
  }
}

// One block per (sample n, position s): sums a[n,c,s] * b[n,c,s] over c.
template <typename Dtype>
__global__ void PositionDotKernel(const int channels, const int inner,
    const Dtype* a, const Dtype* b, Dtype* out) {
  __shared__ Dtype partial[kReduceThreads];
  const int g = blockIdx.x;
  const int n = g / inner;
  const int s = g - n * inner;
  Dtype acc = 0;
  for (int c = threadIdx.x; c < channels; c += blockDim.x) {
    const int i = (n * channels + c) * inner + s;
    acc += a[i] * b[i];
  }
  partial[threadIdx.x] = acc;
  __syncthreads();
  for (int k = blockDim.x / 2; k > 0; k >>= 1) {
    if (threadIdx.x < k) partial[threadIdx.x] += partial[threadIdx.x + k];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[g] = partial[0];
}

// cuBLAS is column-major: the row-major product C = op(A) op(B) is the
// column-major C^T = op(B)^T op(A)^T, with the same leading dimensions.
template <>
void fvvae_gpu_gemm_ld<float>(CBLAS_TRANSPOSE trans_a, CBLAS_TRANSPOSE trans_b,
    int m, int n, int k, float alpha, const float* a, int lda, const float* b,
    int ldb, float beta, float* c, int ldc) {
  const cublasOperation_t op_a =
      trans_a == CblasNoTrans ? CUBLAS_OP_N : CUBLAS_OP_T;
  const cublasOperation_t op_b =
      trans_b == CblasNoTrans ? CUBLAS_OP_N : CUBLAS_OP_T;
  CUBLAS_CHECK(cublasSgemm(Caffe::cublas_handle(), op_b, op_a, n, m, k, &alpha,
      b, ldb, a, lda, &beta, c, ldc));
}

template <>
void fvvae_gpu_gemm_ld<double>(CBLAS_TRANSPOSE trans_a,
    CBLAS_TRANSPOSE trans_b, int m, int n, int k, double alpha,
    const double* a, int lda, const double* b, int ldb, double beta,
    double* c, int ldc) {
  const cublasOperation_t op_a =
      trans_a == CblasNoTrans ? CUBLAS_OP_N : CUBLAS_OP_T;
  const cublasOperation_t op_b =
      trans_b == CblasNoTrans ? CUBLAS_OP_N : CUBLAS_OP_T;
  CUBLAS_CHECK(cublasDgemm(Caffe::cublas_handle(), op_b, op_a, n, m, k, &alpha,
      b, ldb, a, lda, &beta, c, ldc));
}

// One thread per element of the sets layout N x C x T; to_columns chooses the
// direction of the copy.
template <typename Dtype>
__global__ void SetsColumnsKernel(const int count, const int num,
    const int channels, const int inner, const bool to_columns,
    const Dtype* from, Dtype* to) {
  CUDA_KERNEL_LOOP(i, count) {
    const int t = i % inner;
    const int nc = i / inner;
    const int c = nc % channels, n = nc / channels;
    const int col = (c * num + n) * inner + t;
    if (to_columns) {
      to[col] = from[i];
    } else {
      to[i] = from[col];
    }
  }
}

template <typename Dtype>
void fvvae_sets_to_columns_gpu(int num, int channels, int inner,
    const Dtype* sets, Dtype* columns) {
  const int count = num * channels * inner;
  // NOLINT_NEXT_LINE(whitespace/operators)
  SetsColumnsKernel<Dtype><<<CAFFE_GET_BLOCKS(count), CAFFE_CUDA_NUM_THREADS>>>(
      count, num, channels, inner, true, sets, columns);
  CUDA_POST_KERNEL_CHECK;
}

template <typename Dtype>
void fvvae_columns_to_sets_gpu(int num, int channels, int inner,
    const Dtype* columns, Dtype* sets) {
  const int count = num * channels * inner;
  // NOLINT_NEXT_LINE(whitespace/operators)
  SetsColumnsKernel<Dtype><<<CAFFE_GET_BLOCKS(count), CAFFE_CUDA_NUM_THREADS>>>(
      count, num, channels, inner, false, columns, sets);
  CUDA_POST_KERNEL_CHECK;
}

template <typename Dtype>
void fvvae_channel_dot_gpu(int num, int channels, int inner, const Dtype* a,
    const Dtype* b, Dtype beta, Dtype* out) {
  // NOLINT_NEXT_LINE(whitespace/operators)
  ChannelDotKernel<Dtype><<<channels, kReduceThreads>>>(num, channels, inner,
      a, b, beta, out);
  CUDA_POST_KERNEL_CHECK;
}

template <typename Dtype>
void fvvae_position_dot_gpu(int num, int channels, int inner, const Dtype* a,
    const Dtype* b, Dtype* out) {
  // NOLINT_NEXT_LINE(whitespace/operators)
  PositionDotKernel<Dtype><<<num * inner, kReduceThreads>>>(channels, inner,
      a, b, out);
  CUDA_POST_KERNEL_CHECK;
}

template void fvvae_channel_dot_gpu<float>(int, int, int, const float*,
    const float*, float, float*);
template void fvvae_channel_dot_gpu<double>(int, int, int, const double*,
    const double*, double, double*);
template void fvvae_position_dot_gpu<float>(int, int, int, const float*,
    const float*, float*);
template void fvvae_position_dot_gpu<double>(int, int, int, const double*,
    const double*, double*);

template void fvvae_sets_to_columns_gpu<float>(int, int, int, const float*,
    float*);
template void fvvae_sets_to_columns_gpu<double>(int, int, int, const double*,
    double*);
template void fvvae_columns_to_sets_gpu<float>(int, int, int, const float*,
    float*);
template void fvvae_columns_to_sets_gpu<double>(int, int, int, const double*,
    double*);

}  // namespace caffe
