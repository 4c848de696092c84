# Caffe options for a CUDA build (-DFVVAE_CUDA=ON). cuBLAS and cuRAND come from
# the CUDA toolkit or, when it lacks them, from the PyPI wheels nvidia-cublas
# and nvidia-curand (FVVAE_CUDA_LIBS_ROOT: a folder with their include/ and
# lib/, holding unversioned .so links; scripts/cuda_libs.sh makes it).
# FVVAE_CUDNN: Caffe's cuDNN layers (patch 0010: cuDNN 8 and 9); FVVAE_NCCL:
# multi-GPU training. Each library is taken from FVVAE_CUDA_LIBS_ROOT when it
# holds it (the wheels nvidia-cudnn-cu13 and nvidia-nccl-cu13), else from the
# toolkit. C++17 throughout: CUDA 13's CCCL (Thrust, CUB) needs it.
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
  -DCPU_ONLY=OFF -DUSE_CUDNN=${FVVAE_CUDNN} -DUSE_NCCL=${FVVAE_NCCL} -DFVVAE_REQUIRE_CUDA=ON
  -DCMAKE_CXX_STANDARD=17 -DCUDA_NVCC_FLAGS=-std=c++17
  -DCUDA_TOOLKIT_ROOT_DIR=${cuda_root}
  -DCUDA_ARCH_NAME=Manual
  -DCUDA_ARCH_BIN=${FVVAE_CUDA_ARCH}
  -DCUDA_ARCH_PTX=${FVVAE_CUDA_ARCH})
# g++ compiles the .cpp files that include Thrust (cudnn_softmax_layer.cpp):
# CUDA 13 keeps Thrust and CUB in include/cccl, which only nvcc adds itself.
set(cxx_includes "")
if(EXISTS "${cuda_root}/include/cccl")
  string(APPEND cxx_includes " -I${cuda_root}/include/cccl")
endif()
if(FVVAE_CUDA_LIBS_ROOT)
  string(APPEND cxx_includes " -I${FVVAE_CUDA_LIBS_ROOT}/include")
endif()
string(STRIP "${cxx_includes}" cxx_includes)
if(cxx_includes)
  list(APPEND caffe_args "-DCMAKE_CXX_FLAGS=${cxx_includes}")
endif()
if(FVVAE_CUDA_LIBS_ROOT)
  list(APPEND caffe_args
    # FindCUDA forgets library paths when it thinks the toolkit root changed:
    # tell it the root is unchanged so that these survive the first configure.
    -DCUDA_TOOLKIT_ROOT_DIR_INTERNAL=${cuda_root}
    -DCUDA_cublas_LIBRARY=${FVVAE_CUDA_LIBS_ROOT}/lib/libcublas.so
    -DCUDA_curand_LIBRARY=${FVVAE_CUDA_LIBS_ROOT}/lib/libcurand.so
    # (the Release flags, as CUDA_NVCC_FLAGS holds -std=c++17)
    "-DCUDA_NVCC_FLAGS_RELEASE=-I${FVVAE_CUDA_LIBS_ROOT}/include")
endif()
# cuDNN and NCCL: from FVVAE_CUDA_LIBS_ROOT when it has them, else the toolkit's
foreach(lib CUDNN NCCL)
  string(TOLOWER ${lib} name)
  if(NOT FVVAE_${lib})
    continue()
  endif()
  set(root "")
  foreach(cand "${FVVAE_CUDA_LIBS_ROOT}" "${cuda_root}")
    if(cand AND EXISTS "${cand}/include/${name}.h")
      set(root "${cand}")
      break()
    endif()
  endforeach()
  if(NOT root)
    message(FATAL_ERROR "FVVAE_${lib}: no ${name}.h in FVVAE_CUDA_LIBS_ROOT "
            "('${FVVAE_CUDA_LIBS_ROOT}') or the toolkit (${cuda_root}); "
            "scripts/cuda_libs.sh --libs ${name} puts the pinned wheel's there")
  endif()
  find_library(${lib}_LIB NAMES ${name} PATHS "${root}/lib" "${root}/lib64" NO_DEFAULT_PATH)
  if(NOT ${lib}_LIB)
    message(FATAL_ERROR "FVVAE_${lib}: ${root}/include/${name}.h but no lib${name}.so "
            "in ${root}/lib or ${root}/lib64")
  endif()
  message(STATUS "${lib}: ${root}")
  if(lib STREQUAL CUDNN)
    list(APPEND caffe_args -DFVVAE_REQUIRE_CUDNN=ON
      -DCUDNN_INCLUDE=${root}/include -DCUDNN_LIBRARY=${CUDNN_LIB})
  else()
    list(APPEND caffe_args -DNCCL_INCLUDE_DIR=${root}/include -DNCCL_LIBRARIES=${NCCL_LIB})
  endif()
endforeach()
