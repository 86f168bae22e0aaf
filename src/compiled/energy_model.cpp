// Compiled once for cebm::compiled: the Langevin trainer of a model behind models::EnergyModel, the
// reading of its checkpoints and options, and the conjugate EBMs' presets and options, which every
// registry entry of ebm_model<Model> and conjugate_ebm_entry<F, Map> calls.
#include "cebm/torch/programs/conjugate_ebm_entry_impl.hpp"
#include "cebm/torch/programs/ebm_model_impl.hpp"
