// Why: IDX images + labels -> pixel sequences, with the shapes checked against each other.
#include "experiments/data/FashionMnist.hpp"

#include <filesystem>

#include "core/Error.hpp"
#include "experiments/data/IdxArray.hpp"

namespace diffuser::experiments {

const std::vector<std::string>& fashion_mnist_class_names() {
  static const std::vector<std::string> names = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                                 "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                                 "Bag",         "Ankle boot"};
  return names;
}

SequenceDataset load_idx_classification(const std::string& images_path,
                                        const std::string& labels_path, std::int32_t num_classes,
                                        const std::string& name) {
  const IdxArray images = read_idx(images_path);
  const IdxArray labels = read_idx(labels_path);
  DIFFUSER_CHECK(images.dims.size() >= 2, "{}: expected images of rank >= 2 [N, ...], got rank {}",
                 images_path, images.dims.size());
  DIFFUSER_CHECK(labels.dims.size() == 1, "{}: expected labels of rank 1 [N], got rank {}",
                 labels_path, labels.dims.size());
  const std::int64_t n = images.dims[0];
  DIFFUSER_CHECK(labels.dims[0] == n, "{} holds {} labels but {} holds {} images", labels_path,
                 labels.dims[0], images_path, n);
  DIFFUSER_CHECK(n > 0, "{}: no images", images_path);
  const std::size_t pixels = images.data.size() / static_cast<std::size_t>(n);
  DIFFUSER_CHECK(pixels > 0, "{}: images have no pixels", images_path);
  SequenceDataset data(name, 256, num_classes, 0);
  data.reserve(static_cast<std::size_t>(n), images.data.size());
  std::vector<std::int32_t> tokens(pixels);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int32_t label = labels.data[static_cast<std::size_t>(i)];
    DIFFUSER_CHECK(label < num_classes, "{}: label {} of item {} outside [0, {})", labels_path,
                   label, i, num_classes);
    const std::uint8_t* px = images.data.data() + static_cast<std::size_t>(i) * pixels;
    for (std::size_t p = 0; p < pixels; ++p) tokens[p] = px[p];
    data.add(tokens, label);
  }
  return data;
}

SequenceDataset load_fashion_mnist(std::string_view split, const std::string& dir) {
  DIFFUSER_CHECK(split == "train" || split == "test",
                 "Fashion-MNIST split must be 'train' or 'test' (got '{}')", split);
  const std::string prefix = split == "train" ? "train" : "t10k";
  auto pick = [&](const std::string& base) {
    const auto path = std::filesystem::path(dir) / base;
    std::string gz = path.string() + ".gz";
    if (std::filesystem::exists(gz)) return gz;
    DIFFUSER_CHECK(std::filesystem::exists(path),
                   "Fashion-MNIST: neither '{}' nor '{}' exists (install the Debian package "
                   "dataset-fashion-mnist or pass the directory holding the IDX files)",
                   gz, path.string());
    return path.string();
  };
  const std::string images = pick(prefix + "-images-idx3-ubyte");
  const std::string labels = pick(prefix + "-labels-idx1-ubyte");
  SequenceDataset data =
      load_idx_classification(images, labels, 10, "fashion-mnist:" + std::string(split));
  data.set_class_names(fashion_mnist_class_names());
  return data;
}

}  // namespace diffuser::experiments
