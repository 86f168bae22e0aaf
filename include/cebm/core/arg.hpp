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
