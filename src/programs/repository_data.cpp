// The checkout's data folder, compiled here alone: the path differs from clone to clone, and a
// translation unit that carries it is compiled anew in each.
namespace cebm::programs::cli {

const char* repository_data_dir() { return CEBM_REPOSITORY_DATA_DIR; }

}  // namespace cebm::programs::cli
