#pragma once
/// @file
/// `CEBM_ARG(type, name) = default;` declares an option with a chainable setter `name(value)` and a
/// getter `name()`, as libtorch's TORCH_ARG does: `langevin_options{}.steps(60).step_size(1.0)`.
#define CEBM_ARG(T, name)                          \
 public:                                           \
  auto name(const T& new_##name)->decltype(*this) { \
    this->name##_ = new_##name;                    \
    return *this;                                  \
  }                                                \
  const T& name() const noexcept { return this->name##_; } \
                                                   \
 private:                                          \
  T name##_

/// `CEBM_SELF_ARG(type, name) = default;` is CEBM_ARG for a base `template <class Self>` whose
/// options a derived struct inherits: the setter returns `Self&`, so setters of the base and of the
/// derived struct chain in any order.
#define CEBM_SELF_ARG(T, name)                                   \
 public:                                                         \
  Self& name(const T& new_##name) {                              \
    this->name##_ = new_##name;                                  \
    return static_cast<Self&>(*this);                            \
  }                                                              \
  const T& name() const noexcept { return this->name##_; }       \
                                                                 \
 private:                                                        \
  T name##_
