// Uses an installed cebm::programs: the shipped kinds come compiled, and the bundled evaluate runs
// from its library entry point (here only to refuse a missing run, which needs no data).
#include <cstdio>
#include <string>

#include <cebm/torch/programs/entry_points.hpp>
#include <cebm/torch/programs/shipped_models.hpp>

int main() {
  const std::string kinds = cebm::programs::models().kinds(true);
  std::printf("cebm::programs consumer: trainable kinds %s\n", kinds.c_str());
  char name[] = "evaluate", flag[] = "--run", dir[] = "no_such_run_directory";
  char* argv[] = {name, flag, dir};
  const int status = cebm::programs::evaluate_main(3, argv);  // "no such run directory", status 2
  return kinds.find("cebm_poisson") != std::string::npos && kinds.find("harmonium") != std::string::npos && status == 2 ? 0 : 1;
}
