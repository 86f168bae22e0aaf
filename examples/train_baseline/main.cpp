// The bundled program `train_baseline`: its whole body is cebm::programs::train_baseline_main, compiled once in the
// library cebm::programs (src/programs/train_baseline.cpp); `train_baseline --help` lists its flags.
#include <cebm/torch/programs/entry_points.hpp>

int main(int argc, char** argv) { return cebm::programs::train_baseline_main(argc, argv); }
