# Prepares the Caffe source tree that the build compiles:
#   1. find BVLC Caffe's final source (Debian's caffe 1.0.0+git20180821.99bd997-8
#      upstream tarball): FVVAE_CAFFE_TARBALL if set, else the copy cached in
#      FVVAE_CACHE_DIR, else scripts/fetch_caffe_source.sh downloads it;
#   2. verify its size and SHA-256;
#   3. unpack it and apply patches/ in the order of patches/series (redone only
#      when the tarball or a patch changes);
#   4. overlay cuda_layers/ (our layers, utilities and their tests); a file is
#      rewritten only when its content changed, so rebuilds stay incremental.
# Sets CAFFE_SOURCE_DIR and FVVAE_OVERLAY_DIGEST (changes when the set of
# overlaid files changes, so that Caffe's globbing CMake is run again).

set(CAFFE_ORIG_NAME "caffe_1.0.0+git20180821.99bd997.orig.tar.gz")
set(CAFFE_ORIG_SIZE 8518844)
set(CAFFE_ORIG_SHA256 "e0eb3f06794f7402c77b7dec8e8480273ee1a1bb192e9122b621a69d4147ad0c")

function(fvvae_verify_tarball path out_ok out_why)
  if(NOT EXISTS "${path}")
    set(${out_ok} FALSE PARENT_SCOPE)
    set(${out_why} "${path} does not exist" PARENT_SCOPE)
    return()
  endif()
  file(SIZE "${path}" size)
  file(SHA256 "${path}" sha)
  if(NOT size EQUAL CAFFE_ORIG_SIZE OR NOT sha STREQUAL CAFFE_ORIG_SHA256)
    set(${out_ok} FALSE PARENT_SCOPE)
    set(${out_why} "${path} is ${size} bytes with sha256 ${sha}; expected "
                   "${CAFFE_ORIG_SIZE} bytes with sha256 ${CAFFE_ORIG_SHA256}"
        PARENT_SCOPE)
    return()
  endif()
  set(${out_ok} TRUE PARENT_SCOPE)
endfunction()

# ---[ 1-2. locate and verify
if(FVVAE_CAFFE_TARBALL)
  set(tarball "${FVVAE_CAFFE_TARBALL}")
  fvvae_verify_tarball("${tarball}" ok why)
  if(NOT ok)
    message(FATAL_ERROR "FVVAE_CAFFE_TARBALL: ${why}. It must be Debian's "
            "${CAFFE_ORIG_NAME} (BVLC Caffe master 9b891540).")
  endif()
else()
  set(tarball "${FVVAE_CACHE_DIR}/caffe-source/${CAFFE_ORIG_NAME}")
  fvvae_verify_tarball("${tarball}" ok why)
  if(NOT ok)
    message(STATUS "Fetching Caffe's source into ${FVVAE_CACHE_DIR}/caffe-source")
    file(REMOVE "${tarball}")
    execute_process(
      COMMAND bash "${PROJECT_SOURCE_DIR}/scripts/fetch_caffe_source.sh"
              "${FVVAE_CACHE_DIR}/caffe-source"
      RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "Could not fetch Caffe's source (exit ${rc}). "
              "Set FVVAE_CAFFE_TARBALL to a copy of ${CAFFE_ORIG_NAME}.")
    endif()
    fvvae_verify_tarball("${tarball}" ok why)
    if(NOT ok)
      message(FATAL_ERROR "Downloaded Caffe source failed verification: ${why}")
    endif()
  endif()
endif()
message(STATUS "Caffe source: ${tarball} (sha256 verified)")

# ---[ 3. unpack and patch
set(CAFFE_SOURCE_DIR "${CMAKE_BINARY_DIR}/caffe-src")
file(STRINGS "${PROJECT_SOURCE_DIR}/patches/series" patch_series REGEX "^[^#]")
set(stamp_text "${CAFFE_ORIG_SHA256}")
set(patch_files "")
foreach(p ${patch_series})
  string(STRIP "${p}" p)
  set(pf "${PROJECT_SOURCE_DIR}/patches/${p}")
  if(NOT EXISTS "${pf}")
    message(FATAL_ERROR "patches/series names ${p}, which is not in patches/")
  endif()
  file(SHA256 "${pf}" psha)
  string(APPEND stamp_text "\n${p} ${psha}")
  list(APPEND patch_files "${pf}")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${pf}")
endforeach()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             "${PROJECT_SOURCE_DIR}/patches/series")
set(stamp_file "${CAFFE_SOURCE_DIR}/.fvvae-patched")
set(old_stamp "")
if(EXISTS "${stamp_file}")
  file(READ "${stamp_file}" old_stamp)
endif()
if(NOT old_stamp STREQUAL stamp_text)
  message(STATUS "Unpacking and patching Caffe into ${CAFFE_SOURCE_DIR}")
  file(REMOVE_RECURSE "${CAFFE_SOURCE_DIR}" "${CMAKE_BINARY_DIR}/caffe-unpack")
  file(ARCHIVE_EXTRACT INPUT "${tarball}"
       DESTINATION "${CMAKE_BINARY_DIR}/caffe-unpack")
  file(GLOB top "${CMAKE_BINARY_DIR}/caffe-unpack/*")
  list(LENGTH top ntop)
  if(ntop EQUAL 1 AND IS_DIRECTORY "${top}")
    file(RENAME "${top}" "${CAFFE_SOURCE_DIR}")
  else()
    file(RENAME "${CMAKE_BINARY_DIR}/caffe-unpack" "${CAFFE_SOURCE_DIR}")
  endif()
  file(REMOVE_RECURSE "${CMAKE_BINARY_DIR}/caffe-unpack")
  find_program(PATCH_EXECUTABLE patch REQUIRED)
  foreach(pf ${patch_files})
    execute_process(COMMAND "${PATCH_EXECUTABLE}" -p1 --batch --forward -i "${pf}"
                    WORKING_DIRECTORY "${CAFFE_SOURCE_DIR}"
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "Patch ${pf} does not apply to Caffe's source:\n${out}")
    endif()
  endforeach()
  file(WRITE "${stamp_file}" "${stamp_text}")
endif()

# ---[ 4. overlay our layers
set(overlay_root "${PROJECT_SOURCE_DIR}/cuda_layers")
file(GLOB_RECURSE overlay_files RELATIVE "${overlay_root}" CONFIGURE_DEPENDS
     "${overlay_root}/include/*" "${overlay_root}/src/*")
list(SORT overlay_files)
set(manifest "")
foreach(rel ${overlay_files})
  # Our layer tests go to src/caffe/test/fvvae/: their own test binary.
  string(REGEX REPLACE "^src/caffe/test/" "src/caffe/test/fvvae/" dest "${rel}")
  configure_file("${overlay_root}/${rel}" "${CAFFE_SOURCE_DIR}/${dest}" COPYONLY)
  string(APPEND manifest "${dest}\n")
endforeach()
# Files overlaid before but gone from cuda_layers/ now: remove them.
set(manifest_file "${CAFFE_SOURCE_DIR}/.fvvae-overlay")
if(EXISTS "${manifest_file}")
  file(STRINGS "${manifest_file}" previous)
  foreach(rel ${previous})
    string(FIND "${manifest}" "${rel}\n" at)
    if(at EQUAL -1)
      file(REMOVE "${CAFFE_SOURCE_DIR}/${rel}")
    endif()
  endforeach()
endif()
file(WRITE "${manifest_file}" "${manifest}")
string(SHA256 FVVAE_OVERLAY_DIGEST "${stamp_text}\n${manifest}")
