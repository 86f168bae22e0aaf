#pragma once
/// @file
/// A stack of (convolution, Swish) layers run on oneDNN directly, with every activation kept in
/// oneDNN's blocked layout between layers.
///
/// Through `at::conv2d`, each oneDNN convolution converts its NCHW input to the blocked layout
/// (nChw16c) and its blocked output back, forward and again for the input gradient: on the CEBM
/// encoder (batch 128, one thread) those conversions of 26 MB activations cost about a quarter of
/// an SGLD step. Here the layers exchange blocked tensors; only the stack's input, its output and
/// their gradients are converted.
///
/// `forward` saves the pre-activations; `input_gradient` returns ∂L/∂x from ∂L/∂(output) and
/// them, with the weights held fixed: what Langevin sampling needs. Gradients with respect to the
/// weights are not computed here (see `conv_swish_stack` in conv_swish_stack.hpp, which uses ATen
/// operations when they are asked for).
///
/// Compiled when `CEBM_WITH_ONEDNN` is 1: CMake sets it when it finds oneDNN's headers and library
/// (Debian: libdnnl-dev, the oneDNN that Debian's libtorch links to). Float32 CPU tensors only.
#include <cstdint>
#include <algorithm>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <oneapi/dnnl/dnnl.hpp>

#include "cebm/config.hpp"

#ifndef CEBM_ONEDNN_CHUNK_KB
#define CEBM_ONEDNN_CHUNK_KB 8192
#endif

namespace cebm::nn::detail {
inline namespace CEBM_ONEDNN_NAMESPACE {  // config.hpp: bodies that depend on CEBM_WITH_ONEDNN

/// One convolution of the stack: square kernel, equal stride and padding on both axes, with bias.
struct conv_swish_layer {
  std::int64_t in, out, kernel, stride, padding;
  bool operator<(const conv_swish_layer& o) const {
    return std::tie(in, out, kernel, stride, padding) < std::tie(o.in, o.out, o.kernel, o.stride, o.padding);
  }
};

/// The primitives of one stack at one input shape, built once and reused (oneDNN primitive
/// creation costs milliseconds).
class onednn_conv_swish_plan {
  using md = dnnl::memory::desc;
  using tag = dnnl::memory::format_tag;

 public:
  onednn_conv_swish_plan(std::int64_t batch, std::int64_t size, const std::vector<conv_swish_layer>& layers)
      : engine_(dnnl::engine::kind::cpu, 0) {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    const auto f32 = dnnl::memory::data_type::f32;
    std::int64_t h = size;
    md prev_act;  // the previous layer's activation layout (blocked); the input's for layer 0
    for (std::size_t i = 0; i < layers.size(); ++i) {
      const conv_swish_layer& l = layers[i];
      const std::int64_t oh = (h + 2 * l.padding - l.kernel) / l.stride + 1;
      const dnnl::memory::dims strides{l.stride, l.stride}, pad{l.padding, l.padding};
      const md src_any({batch, l.in, h, h}, f32, tag::any), dst_any({batch, l.out, oh, oh}, f32, tag::any);
      const md w_any({l.out, l.in, l.kernel, l.kernel}, f32, tag::any), bias({l.out}, f32, tag::x);
      stage s;
      s.plain_weights = md({l.out, l.in, l.kernel, l.kernel}, f32, tag::oihw);
      s.fwd_pd = dnnl::convolution_forward::primitive_desc(
          dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                          i == 0 ? src_any : prev_act, w_any, bias, dst_any, strides, pad, pad),
          attr, engine_);
      s.fwd = dnnl::convolution_forward(s.fwd_pd);
      const md act = s.fwd_pd.dst_desc();
      s.act_fwd_pd = dnnl::eltwise_forward::primitive_desc(
          dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::eltwise_swish, act, 1.f, 0.f),
          attr, engine_);
      s.act_fwd = dnnl::eltwise_forward(s.act_fwd_pd);
      s.act_bwd_pd = dnnl::eltwise_backward::primitive_desc(
          dnnl::eltwise_backward::desc(dnnl::algorithm::eltwise_swish, act, act, 1.f, 0.f), attr, engine_,
          s.act_fwd_pd);
      s.act_bwd = dnnl::eltwise_backward(s.act_bwd_pd);
      s.bwd_pd = dnnl::convolution_backward_data::primitive_desc(
          dnnl::convolution_backward_data::desc(dnnl::algorithm::convolution_direct, src_any, w_any, act, strides, pad,
                                                pad),
          attr, engine_, s.fwd_pd);
      s.bwd = dnnl::convolution_backward_data(s.bwd_pd);
      if (i == 0 && l.in < 16) {
        // ∂L/∂x = col2im(Ŵᵀ ∂L/∂y): a 1×1 convolution to in·k·k maps, then their shifted sum.
        // The maps are blocked by the CPU's channel block: 16 with AVX-512, 8 with AVX2 only, where
        // oneDNN has no JIT kernel for 16 and runs its reference loops (~100x slower).
        const std::int64_t taps = l.in * l.kernel * l.kernel;
        for (const std::int64_t block : {16, 8}) {
          s.columns_pd = dnnl::convolution_forward::primitive_desc(
              dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, act,
                                              md({taps, l.out, 1, 1}, f32, tag::any),
                                              md({batch, taps, oh, oh}, f32, block == 16 ? tag::aBcd16b : tag::aBcd8b),
                                              {1, 1}, {0, 0}, {0, 0}),
              attr, engine_);
          s.column_block = block;
          if (std::string(s.columns_pd.impl_info_str()).rfind("ref", 0) != 0) break;
        }
        s.columns = dnnl::convolution_forward(s.columns_pd);
        s.plain_columns_weights = md({taps, l.out, 1, 1}, f32, tag::oihw);
      }
      stages_.push_back(std::move(s));
      prev_act = act;
      h = oh;
    }
    first_ = layers.front();
    input_ = md({batch, layers.front().in, size, size}, f32, tag::nchw);
    output_ = md({batch, layers.back().out, h, h}, f32, tag::nchw);
    output_dims_ = {batch, layers.back().out, h, h};
  }

  /// The stack's output [B, C, H', W'] (NCHW) for x [B, C₀, H, W] (contiguous NCHW float); the
  /// pre-activations (blocked, as flat float tensors) into `saved` when it is not null.
  at::Tensor forward(const at::Tensor& x, const std::vector<at::Tensor>& weights, const std::vector<at::Tensor>& biases,
                     std::vector<at::Tensor>* saved) {
    dnnl::stream strm(engine_);
    dnnl::memory cur = to_layout(strm, x, input_, stages_.front().fwd_pd.src_desc());
    for (std::size_t i = 0; i < stages_.size(); ++i) {
      stage& s = stages_[i];
      const md act = s.fwd_pd.dst_desc();
      const dnnl::memory w = to_layout(strm, weights[i], s.plain_weights, s.fwd_pd.weights_desc());
      const dnnl::memory b(s.fwd_pd.bias_desc(), engine_, biases[i].data_ptr());
      const at::Tensor pre = allocate(act), out = allocate(act);
      const dnnl::memory pre_m(act, engine_, pre.data_ptr()), out_m(act, engine_, out.data_ptr());
      const at::Tensor pad1 = allocate(s.fwd_pd.scratchpad_desc()), pad2 = allocate(s.act_fwd_pd.scratchpad_desc());
      s.fwd.execute(strm, {{DNNL_ARG_SRC, cur}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, b}, {DNNL_ARG_DST, pre_m},
                           {DNNL_ARG_SCRATCHPAD, memory_of(s.fwd_pd.scratchpad_desc(), pad1)}});
      s.act_fwd.execute(strm, {{DNNL_ARG_SRC, pre_m}, {DNNL_ARG_DST, out_m},
                               {DNNL_ARG_SCRATCHPAD, memory_of(s.act_fwd_pd.scratchpad_desc(), pad2)}});
      if (saved) saved->push_back(pre);
      keep_.push_back(out);
      cur = out_m;
    }
    at::Tensor y = at::empty(output_dims_, x.options());
    reorder_into(strm, cur, dnnl::memory(output_, engine_, y.data_ptr()));
    strm.wait();
    keep_.clear();
    return y;
  }

  /// ∂L/∂x [B, C₀, H, W] from ∂L/∂(output) `grad` (NCHW) and the pre-activations `saved` of the
  /// forward that produced the output.
  at::Tensor input_gradient(const at::Tensor& grad, const std::vector<at::Tensor>& weights,
                            const std::vector<at::Tensor>& saved) {
    dnnl::stream strm(engine_);
    const at::Tensor g_plain = grad.contiguous();
    dnnl::memory g = to_layout(strm, g_plain, output_, stages_.back().fwd_pd.dst_desc());
    for (std::size_t j = stages_.size(); j-- > 0;) {
      stage& s = stages_[j];
      const md act = s.fwd_pd.dst_desc();
      const at::Tensor pad1 = allocate(s.act_bwd_pd.scratchpad_desc());
      // In place: ∂L/∂(pre-activation) overwrites ∂L/∂(activation), a buffer of this call.
      const dnnl::memory d_pre_m = g.get_data_handle() == g_plain.data_ptr() ? to_layout(strm, g, act, true) : g;
      s.act_bwd.execute(strm, {{DNNL_ARG_SRC, memory_of(act, saved[j])}, {DNNL_ARG_DIFF_DST, d_pre_m},
                               {DNNL_ARG_DIFF_SRC, d_pre_m},
                               {DNNL_ARG_SCRATCHPAD, memory_of(s.act_bwd_pd.scratchpad_desc(), pad1)}});
      if (j == 0 && s.columns_pd) {
        at::Tensor dx = columns_gradient(strm, s, d_pre_m, weights[0]);
        keep_.clear();
        return dx.to(grad.scalar_type());
      }
      const at::Tensor pad2 = allocate(s.bwd_pd.scratchpad_desc());
      const dnnl::memory d_dst = to_layout(strm, d_pre_m, s.bwd_pd.diff_dst_desc());
      const dnnl::memory w = to_layout(strm, weights[j], s.plain_weights, s.bwd_pd.weights_desc());
      const md d_src_desc = s.bwd_pd.diff_src_desc();
      const at::Tensor d_src = allocate(d_src_desc);
      const dnnl::memory d_src_m(d_src_desc, engine_, d_src.data_ptr());
      s.bwd.execute(strm, {{DNNL_ARG_DIFF_DST, d_dst}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DIFF_SRC, d_src_m},
                           {DNNL_ARG_SCRATCHPAD, memory_of(s.bwd_pd.scratchpad_desc(), pad2)}});
      keep_.push_back(d_src);
      g = j > 0 ? to_layout(strm, d_src_m, stages_[j - 1].fwd_pd.dst_desc()) : d_src_m;
    }
    at::Tensor dx = at::empty({input_.dims()[0], input_.dims()[1], input_.dims()[2], input_.dims()[3]}, grad.options());
    reorder_into(strm, g, dnnl::memory(input_, engine_, dx.data_ptr()));
    strm.wait();
    keep_.clear();
    return dx;
  }

 private:
  struct stage {
    md plain_weights;
    dnnl::convolution_forward::primitive_desc fwd_pd;
    dnnl::convolution_forward fwd;
    dnnl::eltwise_forward::primitive_desc act_fwd_pd;
    dnnl::eltwise_forward act_fwd;
    dnnl::eltwise_backward::primitive_desc act_bwd_pd;
    dnnl::eltwise_backward act_bwd;
    dnnl::convolution_backward_data::primitive_desc bwd_pd;
    dnnl::convolution_backward_data bwd;
    // The first layer's input gradient by columns when it has fewer than 16 channels (oneDNN pads
    // the gradient it computes to 16 channels: 16x the work for one channel).
    dnnl::convolution_forward::primitive_desc columns_pd;
    dnnl::convolution_forward columns;
    md plain_columns_weights;
    std::int64_t column_block = 16;  ///< the columns' channel block (aBcd16b or aBcd8b)
  };

  /// A float tensor of at least `d.get_size()` bytes (kept alive by the caller or `keep_`).
  static at::Tensor allocate(const md& d) {
    return at::empty({static_cast<std::int64_t>((d.get_size() + 3) / 4)}, at::TensorOptions().dtype(at::kFloat));
  }
  dnnl::memory memory_of(const md& d, const at::Tensor& t) const { return dnnl::memory(d, engine_, t.data_ptr()); }

  void reorder_into(dnnl::stream& strm, const dnnl::memory& from, const dnnl::memory& to) {
    dnnl::memory src = from, dst = to;  // handles: copies share the buffers
    reorder_for(from.get_desc(), to.get_desc()).execute(strm, src, dst);
  }

  /// `from` in layout `want`: itself when the layouts agree (unless `copy`), else a reordered copy.
  dnnl::memory to_layout(dnnl::stream& strm, const dnnl::memory& from, const md& want, bool copy = false) {
    if (from.get_desc() == want && !copy) return from;
    const at::Tensor t = allocate(want);
    keep_.push_back(t);
    dnnl::memory to(want, engine_, t.data_ptr());
    reorder_into(strm, from, to);
    return to;
  }
  dnnl::memory to_layout(dnnl::stream& strm, const at::Tensor& plain, const md& plain_desc, const md& want) {
    return to_layout(strm, dnnl::memory(plain_desc, engine_, plain.data_ptr()), want);
  }

  /// ∂L/∂x of the first layer from ∂L/∂(its pre-activation) `d_pre`: columns c = Ŵᵀ d_pre as
  /// in·k·k maps (blocked by the stage's column block), then x's gradient is the sum of each map
  /// shifted to its tap.
  at::Tensor columns_gradient(dnnl::stream& strm, stage& s, const dnnl::memory& d_pre, const at::Tensor& weight) {
    const conv_swish_layer& l = first_;
    const std::int64_t taps = l.in * l.kernel * l.kernel;
    const at::Tensor w_t = weight.reshape({l.out, taps}).t().contiguous();
    const dnnl::memory w = to_layout(strm, w_t, s.plain_columns_weights, s.columns_pd.weights_desc());
    const md cols_desc = s.columns_pd.dst_desc();
    const at::Tensor cols = allocate(cols_desc), pad = allocate(s.columns_pd.scratchpad_desc());
    s.columns.execute(strm, {{DNNL_ARG_SRC, d_pre}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, memory_of(cols_desc, cols)},
                             {DNNL_ARG_SCRATCHPAD, memory_of(s.columns_pd.scratchpad_desc(), pad)}});
    strm.wait();
    const auto& in = input_.dims();
    const std::int64_t block = s.column_block;
    const std::int64_t batch = in[0], h = in[2], oh = cols_desc.dims()[2], blocks = (taps + block - 1) / block;
    at::Tensor dx = at::zeros({batch, l.in, h, h}, at::TensorOptions().dtype(at::kFloat));
    const float* c = cols.data_ptr<float>();
    float* out = dx.data_ptr<float>();
    at::parallel_for(0, batch * l.in, 1, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t bc = begin; bc < end; ++bc) {
        const std::int64_t b = bc / l.in, ch = bc % l.in;
        float* o = out + bc * h * h;
        for (std::int64_t ki = 0; ki < l.kernel; ++ki)
          for (std::int64_t kj = 0; kj < l.kernel; ++kj) {
            const std::int64_t tap = (ch * l.kernel + ki) * l.kernel + kj;
            const float* m = c + ((b * blocks + tap / block) * oh * oh) * block + tap % block;
            for (std::int64_t oy = 0; oy < oh; ++oy) {
              const std::int64_t y = oy * l.stride - l.padding + ki;
              if (y < 0 || y >= h) continue;
              for (std::int64_t ox = 0; ox < oh; ++ox) {
                const std::int64_t x = ox * l.stride - l.padding + kj;
                if (x >= 0 && x < h) o[y * h + x] += m[(oy * oh + ox) * block];
              }
            }
          }
      }
    });
    return dx;
  }

  dnnl::reorder& reorder_for(const md& from, const md& to) {
    for (auto& r : reorders_)
      if (std::get<0>(r) == from && std::get<1>(r) == to) return std::get<2>(r);
    reorders_.emplace_back(from, to, dnnl::reorder(dnnl::reorder::primitive_desc(engine_, from, engine_, to)));
    return std::get<2>(reorders_.back());
  }

  dnnl::engine engine_;
  std::vector<stage> stages_;
  conv_swish_layer first_{};
  md input_, output_;
  std::vector<std::int64_t> output_dims_;
  std::vector<std::tuple<md, md, dnnl::reorder>> reorders_;
  std::vector<at::Tensor> keep_;  // temporaries of the call in progress
};

/// The plan for (batch, size, layers) at the current intra-op thread count, created on first use;
/// one per thread, so that concurrent callers never share a plan's temporaries. The thread count is
/// part of the key because oneDNN divides a primitive's work among the threads it sees when the
/// primitive is created: a plan made at 1 thread would keep running on 1 after set_num_threads(2).
inline onednn_conv_swish_plan& onednn_conv_swish_plan_for(std::int64_t batch, std::int64_t size,
                                                          const std::vector<conv_swish_layer>& layers) {
  using key = std::tuple<int, std::int64_t, std::int64_t, std::vector<conv_swish_layer>>;
  thread_local std::map<key, std::unique_ptr<onednn_conv_swish_plan>> plans;
  auto& p = plans[key{at::get_num_threads(), batch, size, layers}];
  if (!p) p = std::make_unique<onednn_conv_swish_plan>(batch, size, layers);
  return *p;
}

/// Images per oneDNN call. The batch runs in chunks small enough that the first layer's
/// pre-activation and activation of a chunk (the largest tensors) stay in the last-level cache from
/// one primitive to the next: on the CEBM encoder (batch 128, 64×28×28 activations, 26 MB each)
/// a convolution whose input comes from memory instead runs about 1.5x slower, and 8 MB chunks
/// make an SGLD step ~20% faster than one call for the batch. CEBM_ONEDNN_CHUNK_KB sets the budget.
inline std::int64_t images_per_chunk(std::int64_t batch, std::int64_t size, const std::vector<conv_swish_layer>& layers) {
  constexpr std::int64_t budget_bytes = std::int64_t{CEBM_ONEDNN_CHUNK_KB} * 1024;
  const conv_swish_layer& l = layers.front();
  const std::int64_t oh = (size + 2 * l.padding - l.kernel) / l.stride + 1;
  const std::int64_t per_image = 2 * l.out * oh * oh * static_cast<std::int64_t>(sizeof(float));
  const std::int64_t chunks = std::max<std::int64_t>(1, (batch * per_image + budget_bytes - 1) / budget_bytes);
  return (batch + chunks - 1) / chunks;  // balanced: at most two chunk sizes, so two cached plans
}

}  // namespace CEBM_ONEDNN_NAMESPACE
}  // namespace cebm::nn::detail
