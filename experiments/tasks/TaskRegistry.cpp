// Why: task.name -> task class (see TaskRegistry.hpp). Adding a task: one line below.
#include "experiments/tasks/TaskRegistry.hpp"

#include "core/Error.hpp"
#include "experiments/data/Cifar10.hpp"
#include "experiments/data/FashionMnist.hpp"
#include "experiments/tasks/ByteLmTask.hpp"
#include "experiments/tasks/ImageTask.hpp"
#include "experiments/tasks/ListOpsTask.hpp"
#include "experiments/tasks/PathfinderTask.hpp"
#include "experiments/tasks/TextTask.hpp"

namespace diffuser::experiments {

namespace {

template <class T>
std::unique_ptr<Task> make(const ExperimentConfig& experiment, const Config& config) {
  return std::make_unique<T>(experiment, config);
}

std::unique_ptr<Task> make_fashion_mnist(const ExperimentConfig& experiment, const Config& config) {
  return std::make_unique<ImageTask>(
      experiment, config,
      ImageSource{load_fashion_mnist, kFashionMnistDir, "the Fashion-MNIST folder", 28, 28});
}

std::unique_ptr<Task> make_cifar10(const ExperimentConfig& experiment, const Config& config) {
  return std::make_unique<ImageTask>(
      experiment, config, ImageSource{load_cifar10, "", "the cifar-10-batches-bin folder", 32, 32});
}

}  // namespace

const std::vector<TaskKind>& task_registry() {
  static const std::vector<TaskKind> registry = {
      {"listops", make<ListOpsTask>}, {"fashion_mnist", make_fashion_mnist},
      {"cifar10", make_cifar10},      {"text", make<TextTask>},
      {"bytelm", make<ByteLmTask>},   {"pathfinder", make<PathfinderTask>},
  };
  return registry;
}

std::unique_ptr<Task> make_task(const ExperimentConfig& experiment, const Config& config) {
  std::string known;
  for (const auto& k : task_registry()) {
    if (experiment.task.name == k.name) return k.make(experiment, config);
    known += (known.empty() ? "" : ", ") + std::string(k.name);
  }
  fail("unknown task '{}' (known: {})", experiment.task.name, known);
}

std::unique_ptr<Task> make_task(const Config& config) {
  return make_task(ExperimentConfig::read(config), config);
}

}  // namespace diffuser::experiments
