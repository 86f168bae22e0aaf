// Compiled once for cebm::compiled: the report, its plots and PNGs, the learning curve.
#include "cebm/torch/eval/learning_curve_impl.hpp"
#include "cebm/torch/eval/plot_impl.hpp"
#include "cebm/torch/eval/report_impl.hpp"
#include "cebm/torch/io/png_impl.hpp"
