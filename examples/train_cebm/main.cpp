// The bundled program `train_cebm`: its whole body is cebm::programs::train_cebm_main, compiled once in the
// library cebm::programs (src/programs/train_cebm.cpp); `train_cebm --help` lists its flags.
#include <cebm/torch/programs/entry_points.hpp>

int main(int argc, char** argv) { return cebm::programs::train_cebm_main(argc, argv); }
