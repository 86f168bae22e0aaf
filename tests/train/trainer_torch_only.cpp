// A one-process trainer in a program that links cebm::torch alone (no image library, no Gloo):
// two iterations on toy images, then the sample grid it wrote must be a PNG.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "cebm/torch/models/cebm.hpp"
#include "cebm/torch/train/ebm_trainer.hpp"
#include "support/toy_images.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  const std::string out = argv[1];
  std::filesystem::remove_all(out);
  const auto options = cebm::train::ebm_trainer_options::preset("ci", "cebm").out_dir(out).iterations(2).batch_size(8)
                           .probe_reference(20).probe_query(10).sample_every(2).long_run_steps(1).long_run_chains(4);
  cebm::train::ebm_trainer<cebm::models::Cebm> trainer(cebm::models::Cebm(), cebm_test::toy_images(60), options, 0);
  trainer.run();
  std::ifstream png(out + "/samples/data.png", std::ios::binary);
  char signature[8] = {};
  png.read(signature, 8);
  if (!png || std::string(signature + 1, 3) != "PNG") {
    std::fprintf(stderr, "%s/samples/data.png: not a PNG file\n", out.c_str());
    return 1;
  }
  std::printf("trained %lld iterations; samples/data.png written\n", static_cast<long long>(trainer.iteration()));
  return 0;
}
