#pragma once
/// @file
/// Compile-time switches.
///
/// CEBM_ENABLE_CHECKS turns on *value* checks (natural parameters inside their domain, finite
/// energies). They read tensor values, which synchronises a GPU, so they are off in release builds
/// unless asked for. Shape checks are always on. Default: on when NDEBUG is not defined.
#if !defined(CEBM_ENABLE_CHECKS)
#  if defined(NDEBUG)
#    define CEBM_ENABLE_CHECKS 0
#  else
#    define CEBM_ENABLE_CHECKS 1
#  endif
#endif

/// CEBM_WITH_ONEDNN = 1 runs the CEBM/IGEBM convolution trunk on oneDNN 2.x directly
/// (`torch/nn/detail/conv_swish_stack.hpp`); the code then needs oneDNN's headers and library, and
/// CMake sets it on `cebm::torch` when it finds them. Default 0: ATen convolutions.
#if !defined(CEBM_WITH_ONEDNN)
#  define CEBM_WITH_ONEDNN 0
#endif

/// The inline namespace of the code whose inline bodies change with CEBM_WITH_ONEDNN: translation
/// units built with different values then define differently named functions, which link side by
/// side, instead of two bodies under one name of which the linker silently keeps one.
#if CEBM_WITH_ONEDNN
#  define CEBM_ONEDNN_NAMESPACE with_onednn
#else
#  define CEBM_ONEDNN_NAMESPACE without_onednn
#endif

/// CEBM_WITH_CUDA = 1 when the libtorch cebm is built against has CUDA (CMake sets it on
/// `cebm::torch` from the torch_cuda target): code that names CUDA-only ATen functions (device
/// generators in `torch/generator.hpp`) is compiled then. Default 0.
#if !defined(CEBM_WITH_CUDA)
#  define CEBM_WITH_CUDA 0
#endif

/// CEBM_HAS_PLPLOT = 1 draws the evaluation report's plots (`torch/eval/plot.hpp`) with PLplot's
/// cairo memory driver: the code then needs PLplot's headers and library (Debian: libplplot-dev and
/// plplot-driver-cairo), and CMake sets it on `cebm::torch` when pkg-config finds `plplot`. Default
/// 0: the hand-drawn raster plots.
#if !defined(CEBM_HAS_PLPLOT)
#  define CEBM_HAS_PLPLOT 0
#endif

/// CEBM_COMPILED = 1 when the program links `cebm::compiled` (CMake sets it on the users of that
/// target): the heavy non-template functions of the torch layer (evaluation, plots, metrics, PNG)
/// are then compiled once, in that library, and their headers only declare them, so no
/// translation unit of the program compiles them again. Otherwise cebm is header-only: each such
/// header includes its `*_impl.hpp` with the definitions, inline. CEBM_INLINE marks those
/// functions.
#if defined(CEBM_COMPILED) && CEBM_COMPILED
#  define CEBM_INLINE
#else
#  undef CEBM_COMPILED
#  define CEBM_INLINE inline
#endif
