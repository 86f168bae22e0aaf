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
