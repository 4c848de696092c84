# Caffe options for a CUDA build (-DFVVAE_CUDA=ON). cuDNN is not used. cuBLAS
# and cuRAND come from the CUDA toolkit or, when it lacks them, from the PyPI
# wheels nvidia-cublas and nvidia-curand (FVVAE_CUDA_LIBS_ROOT: a folder with
# their include/ and lib/, holding unversioned .so links).
# The toolkit: CUDA_HOME, else /usr/local/cuda, else the folder above nvcc
# (which may be a wrapper script, as /usr/local/bin/nvcc is on our machines).
if(DEFINED ENV{CUDA_HOME} AND EXISTS "$ENV{CUDA_HOME}/bin/nvcc")
  set(cuda_root "$ENV{CUDA_HOME}")
elseif(EXISTS /usr/local/cuda/bin/nvcc)
  set(cuda_root /usr/local/cuda)
else()
  find_program(NVCC_EXECUTABLE nvcc REQUIRED)
  get_filename_component(cuda_root "${NVCC_EXECUTABLE}" REALPATH)
  get_filename_component(cuda_root "${cuda_root}" DIRECTORY)
  get_filename_component(cuda_root "${cuda_root}" DIRECTORY)
endif()
if(NOT EXISTS "${cuda_root}/include/cuda_runtime.h")
  message(FATAL_ERROR "FVVAE_CUDA: no CUDA toolkit at ${cuda_root} (set CUDA_HOME)")
endif()
message(STATUS "CUDA toolkit: ${cuda_root}")
list(APPEND caffe_args
  -DCPU_ONLY=OFF -DUSE_CUDNN=OFF -DUSE_NCCL=${FVVAE_NCCL} -DFVVAE_REQUIRE_CUDA=ON
  -DCUDA_TOOLKIT_ROOT_DIR=${cuda_root}
  -DCUDA_ARCH_NAME=Manual
  -DCUDA_ARCH_BIN=${FVVAE_CUDA_ARCH}
  -DCUDA_ARCH_PTX=${FVVAE_CUDA_ARCH})
if(FVVAE_CUDA_LIBS_ROOT)
  list(APPEND caffe_args
    # FindCUDA forgets library paths when it thinks the toolkit root changed:
    # tell it the root is unchanged so that these survive the first configure.
    -DCUDA_TOOLKIT_ROOT_DIR_INTERNAL=${cuda_root}
    -DCUDA_cublas_LIBRARY=${FVVAE_CUDA_LIBS_ROOT}/lib/libcublas.so
    -DCUDA_curand_LIBRARY=${FVVAE_CUDA_LIBS_ROOT}/lib/libcurand.so
    "-DCMAKE_CXX_FLAGS=-I${FVVAE_CUDA_LIBS_ROOT}/include"
    "-DCUDA_NVCC_FLAGS=-I${FVVAE_CUDA_LIBS_ROOT}/include")
endif()
