// The bundled program `evaluate`: its whole body is cebm::programs::evaluate_main, compiled once in the
// library cebm::programs (src/programs/evaluate.cpp); `evaluate --help` lists its flags.
#include <cebm/torch/programs/entry_points.hpp>

int main(int argc, char** argv) { return cebm::programs::evaluate_main(argc, argv); }
