// Compiled once for cebm::compiled: the evaluation (every section) of any model, as functions
// (eval::evaluated_model).
#include "cebm/torch/eval/evaluation_impl.hpp"
