#pragma once
// Which dtypes each ATen operation saw while a recorder lives: libtorch's own RecordFunction
// callbacks report every operation this thread dispatches (and the autograd engine's, which runs
// CPU work on the calling thread), with its inputs. The oracle for "this phase computed in that
// precision" that does not depend on the code under test.
//
// Autocast dispatches an operation it casts twice: first with the caller's float32 inputs, then
// with the cast ones; operations below it (aten::convolution, aten::addmm) see the cast inputs only.
#include <map>
#include <memory>
#include <set>
#include <string>

#include <ATen/ATen.h>
#include <ATen/record_function.h>

namespace cebm_test {

class op_dtypes {
 public:
  op_dtypes() : handle_(0) {
    active() = this;
    handle_ = at::addThreadLocalCallback(at::RecordFunctionCallback(&start).needsInputs(true));
  }
  ~op_dtypes() {
    at::removeCallback(handle_);
    active() = nullptr;
  }
  op_dtypes(const op_dtypes&) = delete;
  op_dtypes& operator=(const op_dtypes&) = delete;

  /// The dtypes of the floating-point tensor inputs `op` (e.g. "aten::convolution") saw; empty
  /// when it did not run.
  std::set<at::ScalarType> of(const std::string& op) const {
    const auto i = seen_.find(op);
    return i == seen_.end() ? std::set<at::ScalarType>{} : i->second;
  }
  /// Every operation that saw a tensor of `dtype`.
  std::set<std::string> ops_with(at::ScalarType dtype) const {
    std::set<std::string> out;
    for (const auto& [op, types] : seen_)
      if (types.count(dtype)) out.insert(op);
    return out;
  }

 private:
  static op_dtypes*& active() {
    static thread_local op_dtypes* recorder = nullptr;
    return recorder;
  }
  static std::unique_ptr<at::ObserverContext> start(const at::RecordFunction& fn) {
    op_dtypes* r = active();
    if (r == nullptr) return nullptr;
    for (const c10::IValue& v : fn.inputs()) {
      if (!v.isTensor()) continue;
      const at::Tensor& t = v.toTensor();
      if (t.defined() && at::isFloatingType(t.scalar_type())) r->seen_[fn.name()].insert(t.scalar_type());
    }
    return nullptr;
  }

  at::CallbackHandle handle_;
  std::map<std::string, std::set<at::ScalarType>> seen_;
};

}  // namespace cebm_test

namespace cebm_test {

/// What one training step under a policy whose networks compute in `compute` must show, as a list
/// of what differs ("" when nothing): the convolutions, forward and backward, in `compute`; Adam's
/// update of the master weights (aten::addcdiv_) in float32; and in fp32 (`compute` float) no
/// bfloat16 or float16 tensor in any operation.
inline std::string precision_violations(const op_dtypes& ops, at::ScalarType compute) {
  std::string out;
  auto say = [&](const std::string& what) { out += (out.empty() ? "" : "; ") + what; };
  auto names = [](const std::set<at::ScalarType>& s) {
    std::string n;
    for (at::ScalarType t : s) n += std::string(n.empty() ? "" : ",") + c10::toString(t);
    return "{" + n + "}";
  };
  const std::set<at::ScalarType> want{compute}, fp32{at::kFloat};
  if (ops.of("aten::convolution") != want) say("aten::convolution saw " + names(ops.of("aten::convolution")));
  const auto backward = ops.of("aten::convolution_backward");
  if (!backward.empty() && backward != want) say("aten::convolution_backward saw " + names(backward));
  if (ops.of("aten::addcdiv_") != fp32) say("Adam's aten::addcdiv_ saw " + names(ops.of("aten::addcdiv_")));
  if (compute == at::kFloat)
    for (at::ScalarType low : {at::kBFloat16, at::kHalf})
      for (const std::string& op : ops.ops_with(low)) say(op + " saw " + c10::toString(low) + " in fp32 mode");
  return out;
}

}  // namespace cebm_test
