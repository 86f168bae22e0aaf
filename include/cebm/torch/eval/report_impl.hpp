#pragma once
/// @file
/// The definitions of report.hpp's functions: inline in a header-only build, compiled once in
/// cebm::compiled when CEBM_COMPILED is set (config.hpp).
#include "cebm/torch/eval/report.hpp"
#include "cebm/torch/io/atomic_file.hpp"

namespace cebm::eval::detail {

CEBM_INLINE std::string fixed(double v, int digits) {
  if (!std::isfinite(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

CEBM_INLINE std::string number(const nlohmann::json& v, int digits) {
  return v.is_number() ? fixed(v.get<double>(), digits) : "n/a";
}

CEBM_INLINE std::string paper(const std::string& dataset, const std::string& model, const std::string& metric,
                         const std::string& setting, int digits) {
  const auto v = published(dataset, model, metric, setting);
  return v ? fixed(v->value, digits) : "–";
}

CEBM_INLINE const nlohmann::json* few_label_row(const nlohmann::json& table, const std::string& setting) {
  if (!table.is_object()) return nullptr;
  for (const auto& row : table["rows"])
    if (row["setting"] == setting) return &row;
  return nullptr;
}

CEBM_INLINE std::string percent_cell(const nlohmann::json* row) {
  if (!row) return "–";
  return fixed(100 * (*row)["mean"].get<double>(), 1) + " ± " + fixed(100 * (*row)["std"].get<double>(), 1);
}

}  // namespace cebm::eval::detail

namespace cebm::eval {

CEBM_INLINE std::string learning_curve_markdown(const nlohmann::json& lc) {
  using detail::fixed;
  std::ostringstream md;
  md << "\n## Learning curve\n\nAt each kept checkpoint: few-label test accuracy (%, mean over draws; published "
        "protocol, and standardised features) and the replay buffer's chains still stuck near the initialisation; "
        "beside it the training probe (1-NN accuracy of probe queries against probe references, both training "
        "images) last logged at or before that iteration.\n\n"
        "| iteration | probe 1-NN | 1 label | 10 labels | 100 labels | 10 labels, standardised | buffer stuck |\n"
        "| --- | --- | --- | --- | --- | --- | --- |\n";
  auto mean = [](const nlohmann::json& table, const char* setting) {
    return table.contains(setting) ? fixed(100 * table[setting]["mean"].get<double>(), 1) : std::string("–");
  };
  for (const auto& p : lc["points"]) {
    const std::int64_t it = p["iteration"].get<std::int64_t>();
    std::string probe = "–";
    for (const auto& row : lc["probe"])
      if (row[0].get<std::int64_t>() <= it) probe = fixed(100 * row[1].get<double>(), 1);
    const auto& few = p["few_label"];
    md << "| " << it << " | " << probe << " | " << mean(few["representation"], "1") << " | " << mean(few["representation"], "10")
       << " | " << mean(few["representation"], "100") << " | " << mean(few["representation_standardized"], "10") << " | "
       << (p["buffer_stuck"].is_number() ? fixed(100 * p["buffer_stuck"].get<double>(), 1) + "%" : std::string("–")) << " |\n";
  }
  if (lc.contains("image")) md << "\n![learning curve](" << lc["image"].get<std::string>() << ")\n";
  return md.str();
}

CEBM_INLINE std::string markdown_report(const nlohmann::json& r) {
  using detail::fixed;
  using detail::number;
  const std::string model = r.value("model", "model"), dataset = r.value("dataset", "");
  std::ostringstream md;
  md << "# Evaluation: " << model << " on " << dataset << "\n\n";
  if (r.contains("checkpoint")) md << "Checkpoint `" << r["checkpoint"].get<std::string>() << "`";
  if (r.contains("weights"))  // evaluate --weights: no trainer state came with them
    md << "Weights `" << r["weights"].get<std::string>() << "` (imported: no replay buffer, the chains start fresh)";
  if (r.contains("iteration")) md << ", iteration " << r["iteration"];
  md << ". Training images " << r["images"]["train"] << ", test images " << r["images"]["test"]
     << ", representation dimension " << r.value("representation_dim", 0) << ".\n\n";

  // Few-label.
  const auto& few = r["few_label"];
  md << "## Few-label classification (test accuracy, %)\n\n"
     << "liblinear logistic regression (one-vs-rest, L2, C = 1, bias), " << few["draws"] << " draws of labelled "
     << "training images per setting (" << few["draw"].get<std::string>() << "), mean ± std over draws; *full* is "
     << "fitted once on all training images used. *Standardised*: every feature dimension z-scored with the mean "
     << "and std of all training features, which removes the dominance of C = 1 over small posterior means.\n\n"
     << "| labels per class | representation (published protocol) | representation, standardised | pixels | paper: "
     << model << " |\n| --- | --- | --- | --- | --- |\n";
  for (const std::string s : {"1", "10", "100", "full"})
    md << "| " << s << " | " << detail::percent_cell(detail::few_label_row(few["representation"], s)) << " | "
       << detail::percent_cell(detail::few_label_row(few["representation_standardized"], s)) << " | "
       << detail::percent_cell(few.contains("pixels") ? detail::few_label_row(few["pixels"], s) : nullptr) << " | "
       << detail::paper(dataset, model, "few_label", s, 0) << " |\n";

  // 1-NN.
  const auto& nn = r["nn1"];
  md << "\n## 1-nearest neighbour\n\nEach test representation takes the label of the closest training representation "
        "(squared L2). The mean of the confusion matrix's diagonal (rows normalised by true class) is what the paper "
        "reports.\n\n| features | accuracy | mean diagonal | paper |\n| --- | --- | --- | --- |\n";
  for (const std::string kind : {"representation", "pixels"}) {
    if (!nn.contains(kind)) continue;
    md << "| " << kind << " | " << number(nn[kind]["accuracy"], 4) << " | " << number(nn[kind]["mean_diagonal"], 4) << " | "
       << detail::paper(dataset, kind == "pixels" ? "pixels" : model, "nn1", "", 2) << " |\n";
  }
  const auto& confusion = nn["representation"]["confusion"];
  md << "\nConfusion matrix of the representation (row: true class, column: neighbour's class):\n\n| |";
  for (std::size_t j = 0; j < confusion.size(); ++j) md << " " << j << " |";
  md << "\n|---|";
  for (std::size_t j = 0; j < confusion.size(); ++j) md << "---|";
  md << "\n";
  for (std::size_t i = 0; i < confusion.size(); ++i) {
    md << "| **" << i << "** |";
    for (const auto& v : confusion[i]) md << " " << fixed(v.get<double>(), 2) << " |";
    md << "\n";
  }
  md << "\n![confusion, representation](" << nn["representation"]["image"].get<std::string>() << ")";
  if (nn.contains("pixels")) md << " ![confusion, pixels](" << nn["pixels"]["image"].get<std::string>() << ")";
  md << "\n";

  // OOD.
  const auto& ood = r["ood"];
  md << "\n## Out-of-distribution detection\n\n";
  const bool density = ood.contains("sets") && ood["sets"].begin()->contains("logp");
  if (ood.contains("note")) md << ood["note"].get<std::string>() << ".\n\n";
  if (ood.contains("skipped"))
    for (const auto& [name, why] : ood["skipped"].items())
      md << "Skipped OOD set " << name << ": " << why.get<std::string>() << ".\n\n";
  if (density) {
    md << "Scores −E(x) (*log p*) and −‖∇ₓE(x)‖ (*grad*) on inputs with Gaussian noise of std " << number(ood["noise_std"], 3)
       << "; in-distribution (" << ood["in_distribution_images"]
       << " test images) is the positive class, so AUROC < 0.5 means the OOD set scores as more likely. FPR@95: the "
          "fraction of OOD images scored at least as high as the threshold that keeps 95% of in-distribution images.\n\n"
          "| OOD set | images | AUROC log p | paper | AUROC grad | paper | AUPR log p | AUPR grad | FPR@95 log p | FPR@95 grad |\n"
          "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n";
    for (const auto& [name, s] : ood["sets"].items())
      md << "| " << name << " | " << s["images"] << " | " << number(s["logp"]["auroc"], 3) << " | "
         << detail::paper(dataset, model, "ood_auroc_logp", name, 2) << " | " << number(s["grad"]["auroc"], 3) << " | "
         << detail::paper(dataset, model, "ood_auroc_grad", name, 2) << " | " << number(s["logp"]["aupr"], 3) << " | "
         << number(s["grad"]["aupr"], 3) << " | " << number(s["logp"]["fpr_at_95_tpr"], 3) << " | "
         << number(s["grad"]["fpr_at_95_tpr"], 3) << " |\n";
    if (ood.contains("images") && ood["images"].contains("logp"))
      md << "\n![OOD scores -E(x)](" << ood["images"]["logp"].get<std::string>() << ")\n";
  }
  if (ood.contains("sets") && ood["sets"].begin()->contains("model_score")) {
    md << "\nThe model's own score −s(x) ("
       << (model == "clel" ? "CLEL: ½‖f(x)‖² − β·cos(g(f(x)), h(x)) with the test-time β"
                           : model == "bigan" ? "BIGAN: s(x) = −D(x, μ(x)), the discriminator's logit negated" : model)
       << "), on inputs without added noise:\n\n| OOD set | AUROC | AUPR | FPR@95 |\n| --- | --- | --- | --- |\n";
    for (const auto& [name, s] : ood["sets"].items())
      md << "| " << name << " | " << number(s["model_score"]["auroc"], 3) << " | " << number(s["model_score"]["aupr"], 3)
         << " | " << number(s["model_score"]["fpr_at_95_tpr"], 3) << " |\n";
    if (ood.contains("images") && ood["images"].contains("model_score"))
      md << "\n![OOD scores -s(x)](" << ood["images"]["model_score"].get<std::string>() << ")\n";
  }

  // Aggregate posterior.
  const auto& ap = r["aggregate_posterior"];
  md << "\n## Aggregate posterior\n\n";
  if (ap.contains("skipped")) {
    md << "Not computed: " << ap["skipped"].get<std::string>() << ".\n";
  } else {
    const bool stratified = ap.value("estimator", std::string("batch")) == "stratified";
    const double cap = stratified ? ap["dataset_size"].get<double>() : ap["batch_size"].get<double>();
    md << "KL(q̂(z) ‖ bias) and I(x; z) in nats with the minibatch "
       << (stratified ? "stratified" : "batch (average-encoding)") << " estimator (Esmaeili et al. 2019; the paper's own "
       << "code is not public), " << ap["batches"] << " batches of " << ap["batch_size"] << " of "
       << r["images"]["train"] << " training images, ± std across batches. MI "
       << "cannot exceed log(" << (stratified ? "N" : "batch") << ") = " << fixed(std::log(cap), 2) << ".\n\n"
       << "| quantity | measured | paper |\n| --- | --- | --- |\n"
       << "| KL | " << number(ap["kl"], 3) << " ± " << number(ap["kl_std"], 3) << " | "
       << detail::paper(dataset, model, "kl", "", 1) << " |\n"
       << "| MI | " << number(ap["mi"], 3) << " ± " << number(ap["mi_std"], 3) << " | "
       << detail::paper(dataset, model, "mi", "", 1) << " |\n";
  }

  // Samples.
  const auto& smp = r["samples"];
  if (smp.contains("ancestral"))
    md << "\n## Samples\n\n" << smp["ancestral"]["count"] << " ancestral draws: ![samples]("
       << smp["ancestral"]["image"].get<std::string>() << ")\n";
  else md << "\n## Samples\n\n| chains | count | stuck near the initialisation | mean neighbour correlation |\n| --- | --- | --- | --- |\n";
  for (const std::string kind : {"long_run", "buffer"}) {
    if (!smp.contains(kind)) continue;
    const auto& st = smp[kind]["stuck"];
    md << "| " << (kind == "long_run" ? "long run, " + smp[kind].value("protocol", std::to_string(smp[kind]["steps"].get<std::int64_t>()) + " steps from noise")
                                      : std::string("replay buffer"))
       << " | " << smp[kind]["chains"] << " | " << fixed(100 * st["fraction"].get<double>(), 1) << "% | "
       << number(st["mean_correlation"], 3) << " |\n";
  }
  if (smp.contains("long_run")) {
    const auto& st = smp["long_run"]["stuck"];
    md << "\nStuck: " << smp.value("stuck_criterion", std::string()) << " (initialisation " << number(st["noise_correlation"], 3)
       << ", test images " << number(st["data_correlation"], 3) << ", threshold " << number(st["threshold"], 3) << ").\n\n"
       << "Long-run chains: ![long run](" << smp["long_run"]["image"].get<std::string>() << ")";
    if (smp.contains("buffer")) md << " replay buffer: ![buffer](" << smp["buffer"]["image"].get<std::string>() << ")";
    md << "\n";
  }
  if (r.contains("frechet")) {
    const auto& fd = r["frechet"];
    md << "\n## Fréchet distance\n\nBetween Gaussians fitted to " << fd["extractor"].get<std::string>()
       << " of samples and of " << fd["reference_images"] << " test images";
    if (fd.contains("note")) md << " (" << fd["note"].get<std::string>() << ")";
    md << ".\n\n| samples | count | Fréchet distance |\n| --- | --- | --- |\n";
    for (const auto& [name, v] : fd["samples"].items())
      md << "| " << name << " | " << v["count"] << " | " << number(v["distance"], 2) << " |\n";
  }

  // Conditional samples.
  if (r.contains("conditional")) {
    const auto& c = r["conditional"];
    md << "\n## Conditional samples\n\nChains of p(x | z̄) ∝ exp(−½‖f(x)‖² + β cos(g(f(x)), z̄)), β = " << number(c["beta"], 3)
       << ", " << c["steps"] << " Langevin steps from the " << c["start"].get<std::string>()
       << ". The cosine of h(x) with z̄ measures how much of the condition the chains took on.\n\n"
       << "| condition | conditions × chains | cos(h, z̄) at the start | cos(h, z̄) after | classifier agrees (start → after) |\n"
       << "| --- | --- | --- | --- | --- |\n";
    for (const std::string kind : {"instance", "class"}) {
      if (!c.contains(kind)) continue;
      const auto& k = c[kind];
      md << "| " << (kind == "instance" ? "one test image per class" : "class (mean direction of its training images)") << " | "
         << k["conditions"] << " × " << k["chains_per_condition"] << " | " << number(k["latent_cosine_start"], 3) << " | "
         << number(k["latent_cosine"], 3) << " | ";
      if (k.contains("classifier"))
        md << fixed(100 * k["classifier"]["accuracy_start"].get<double>(), 1) << "% → "
           << fixed(100 * k["classifier"]["accuracy"].get<double>(), 1) << "%";
      md << " |\n";
    }
    if (c.contains("instance"))
      md << "\nInstance-conditional (reference image first in each row): ![instance](" << c["instance"]["image"].get<std::string>()
         << ")\n";
    if (c.contains("class")) {
      md << "\nClass-conditional (one row per class): ![class](" << c["class"]["image"].get<std::string>() << ")";
      if (c["class"].contains("classifier"))
        md << " confusion (rows: class conditioned on, columns: the classifier's label): ![confusion]("
           << c["class"]["classifier"]["image"].get<std::string>() << ")";
      md << "\n";
    }
  }

  // Embedding.
  if (r.contains("embedding")) {
    const auto& e = r["embedding"];
    md << "\n## Latent space\n\nPCA of the test representations, coloured by class (explained variance "
       << number(e["explained_variance"][0], 4) << ", " << number(e["explained_variance"][1], 4) << "):\n\n!["
       << "PCA embedding](" << e["image"].get<std::string>() << ")\n";
  }
  if (r.contains("learning_curve")) md << learning_curve_markdown(r["learning_curve"]);
  if (r.contains("seconds")) {
    md << "\n## Time\n\n| stage | seconds |\n| --- | --- |\n";
    for (const auto& [stage, s] : r["seconds"].items()) md << "| " << stage << " | " << number(s, 1) << " |\n";
  }
  return md.str();
}

CEBM_INLINE void write_report(const nlohmann::json& report, const std::string& dir) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  // Each file whole or not at all (a full disk, a kill): the previous report stays readable.
  train::replace_file((fs::path(dir) / "report.json").string(), report.dump(2) + '\n', "the report");
  train::replace_file((fs::path(dir) / "report.md").string(), markdown_report(report), "the report");
}

}  // namespace cebm::eval
