// A trainer that forgot `step_values()`. Compiling it must fail with basic_trainer's message naming
// that hook. With CEBM_FAILTEST_CONTROL defined the hook exists and it compiles.
#include <map>
#include <string>

#include "cebm/torch/train/model_trainer.hpp"
#include "support/tiny_autoencoder.hpp"

using cebm_test::TinyAutoencoder;

class reconstruction_trainer
    : public cebm::train::model_trainer<reconstruction_trainer, cebm_test::autoencoder_options, TinyAutoencoder> {
 public:
  using model_trainer::model_trainer;
  bool train_step(std::string& why) {
    const at::Tensor x = begin_step();
    return descend((model()->reconstruction(x) - x).abs().mean(), why);
  }
#ifdef CEBM_FAILTEST_CONTROL
  std::map<std::string, double> step_values() const { return {}; }
#endif
};

int main() {
  reconstruction_trainer t(TinyAutoencoder(), cebm::data::image_dataset{}, cebm_test::autoencoder_options{}, 0);
  t.run();
}
