// Compiled once for cebm::compiled: the Langevin trainer of a model behind models::EnergyModel and
// the reading of its checkpoints, which every registry entry of ebm_model<Model> calls.
#include "cebm/torch/programs/ebm_model_impl.hpp"
