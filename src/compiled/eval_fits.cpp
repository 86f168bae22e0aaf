// Compiled once for cebm::compiled: few-label logistic regression, the Fréchet distance and its
// feature classifier, the aggregate posterior's estimators, stuck chains.
#include "cebm/torch/eval/aggregate_posterior_impl.hpp"
#include "cebm/torch/eval/few_label_impl.hpp"
#include "cebm/torch/eval/frechet_impl.hpp"
#include "cebm/torch/eval/logistic_regression_impl.hpp"
#include "cebm/torch/eval/stuck_chains_impl.hpp"
