// Why: classification head forward/backward composed from Linear and tanh.
#include "nn/ClassificationHead.hpp"

#include <fmt/format.h>

#include "nn/Activation.hpp"
#include "nn/ShapeCheck.hpp"

namespace diffuser::nn {

namespace {

template <typename T>
void check_hidden(const ClassificationHead& head, const ParameterStore<T>& store, const char* what,
                  std::size_t size, std::int64_t batch) {
  DIFFUSER_CHECK(batch >= 0, "classification head: batch must be >= 0, got {}", batch);
  check_size(store.tensor(head.out.weight).name, what, size, batch * head.hidden,
             fmt::format("[batch={}, hidden={}]", batch, head.hidden));
}

}  // namespace

template <typename T>
ClassificationHead::ClassificationHead(ParameterStore<T>& store, const std::string& name,
                                       std::int64_t dim_, std::int64_t classes_,
                                       std::int64_t hidden_)
    : dim(dim_), hidden(hidden_), classes(classes_) {
  DIFFUSER_CHECK(hidden_ >= 0, "classification head '{}': hidden must be >= 0, got {}", name,
                 hidden_);
  if (hidden > 0) dense = Linear(store, name + ".dense", dim, hidden);
  out = Linear(store, name + ".out", hidden > 0 ? hidden : dim, classes);
}

template <typename T>
void classification_head_init(const ClassificationHead& head, ParameterStore<T>& store, Rng& rng,
                              double stddev) {
  if (head.hidden > 0) linear_init(head.dense, store, rng, stddev);
  linear_init(head.out, store, rng, stddev);
}

template <typename T>
void classification_head_forward(const ClassificationHead& head, const ParameterStore<T>& store,
                                 std::span<const T> x, std::span<T> hidden_act, std::span<T> logits,
                                 std::int64_t batch) {
  check_hidden(head, store, "hidden_act", hidden_act.size(), batch);
  if (head.hidden == 0) {
    linear_forward(head.out, store, x, logits, batch);
    return;
  }
  linear_forward(head.dense, store, x, hidden_act, batch);
  activation_forward(Activation::kTanh, std::span<const T>(hidden_act), hidden_act);
  linear_forward(head.out, store, std::span<const T>(hidden_act), logits, batch);
}

template <typename T>
void classification_head_backward(const ClassificationHead& head, ParameterStore<T>& store,
                                  std::span<const T> x, std::span<const T> hidden_act,
                                  std::span<const T> dlogits, std::span<T> scratch, std::span<T> dx,
                                  std::int64_t batch) {
  check_hidden(head, store, "hidden_act", hidden_act.size(), batch);
  check_hidden(head, store, "scratch", scratch.size(), batch);
  if (head.hidden == 0) {
    linear_backward(head.out, store, x, dlogits, dx, batch);
    return;
  }
  linear_backward(head.out, store, hidden_act, dlogits, scratch, batch);
  activation_backward(Activation::kTanh, hidden_act, hidden_act, std::span<const T>(scratch),
                      scratch);
  linear_backward(head.dense, store, x, std::span<const T>(scratch), dx, batch);
}

#define DIFFUSER_NN_INSTANTIATE(T)                                                               \
  template ClassificationHead::ClassificationHead(ParameterStore<T>&, const std::string&,        \
                                                  std::int64_t, std::int64_t, std::int64_t);     \
  template void classification_head_init<T>(const ClassificationHead&, ParameterStore<T>&, Rng&, \
                                            double);                                             \
  template void classification_head_forward<T>(const ClassificationHead&,                        \
                                               const ParameterStore<T>&, std::span<const T>,     \
                                               std::span<T>, std::span<T>, std::int64_t);        \
  template void classification_head_backward<T>(                                                 \
      const ClassificationHead&, ParameterStore<T>&, std::span<const T>, std::span<const T>,     \
      std::span<const T>, std::span<T>, std::span<T>, std::int64_t);
DIFFUSER_NN_INSTANTIATE(float)
DIFFUSER_NN_INSTANTIATE(double)
#undef DIFFUSER_NN_INSTANTIATE

}  // namespace diffuser::nn
