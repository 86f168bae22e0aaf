// The bundled program `train_clel`: its whole body is cebm::programs::train_clel_main, compiled once in the
// library cebm::programs (src/programs/train_clel.cpp); `train_clel --help` lists its flags.
#include <cebm/torch/programs/entry_points.hpp>

int main(int argc, char** argv) { return cebm::programs::train_clel_main(argc, argv); }
