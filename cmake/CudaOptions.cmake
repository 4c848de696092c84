# Caffe options for a CUDA build (-DFVVAE_CUDA=ON). cuDNN is not used. cuBLAS
# and cuRAND come from the CUDA toolkit or, when it lacks them, from the PyPI
# wheels nvidia-cublas and nvidia-curand (FVVAE_CUDA_LIBS_ROOT: a folder with
# their include/ and lib/, holding unversioned .so links).
find_program(NVCC_EXECUTABLE nvcc PATHS /usr/local/cuda/bin REQUIRED)
get_filename_component(cuda_root "${NVCC_EXECUTABLE}" DIRECTORY)
get_filename_component(cuda_root "${cuda_root}" DIRECTORY)
list(APPEND caffe_args
  -DCPU_ONLY=OFF -DUSE_CUDNN=OFF -DUSE_NCCL=OFF
  -DCUDA_TOOLKIT_ROOT_DIR=${cuda_root}
  -DCUDA_ARCH_NAME=Manual
  -DCUDA_ARCH_BIN=${FVVAE_CUDA_ARCH}
  -DCUDA_ARCH_PTX=${FVVAE_CUDA_ARCH})
if(FVVAE_CUDA_LIBS_ROOT)
  list(APPEND caffe_args
    -DCUDA_CUBLAS_LIBRARIES=${FVVAE_CUDA_LIBS_ROOT}/lib/libcublas.so
    -DCUDA_curand_LIBRARY=${FVVAE_CUDA_LIBS_ROOT}/lib/libcurand.so
    "-DCMAKE_CXX_FLAGS=-I${FVVAE_CUDA_LIBS_ROOT}/include"
    "-DCUDA_NVCC_FLAGS=-I${FVVAE_CUDA_LIBS_ROOT}/include")
endif()
