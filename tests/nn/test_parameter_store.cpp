// Why: every optimiser, checkpoint and gradient check relies on the flat layout and the named
// views of the parameter store; misuse must be an error, not memory corruption.
#include <vector>

#include "core/Error.hpp"
#include "nn/Linear.hpp"
#include "nn/ParameterStore.hpp"
#include "tests/Testing.hpp"

using namespace diffuser;
using namespace diffuser::nn;

TEST_CASE("parameter store: contiguous layout with named views", "[nn]") {
  ParameterStore<float> s;
  const ParamRef a = s.add("a", {2, 3}, ParamKind::kWeight);
  const ParamRef b = s.add("b", {4}, ParamKind::kBias);
  CHECK(s.size() == 10);
  CHECK(s.grads().size() == 10);
  CHECK(a.offset == 0);
  CHECK(a.size == 6);
  CHECK(b.offset == 6);
  CHECK(s.tensors()[1].name == "b");
  CHECK(s.tensors()[1].shape == std::vector<std::int64_t>{4});
  CHECK(s.tensors()[1].kind == ParamKind::kBias);
  CHECK(to_string(ParamKind::kNorm) == "norm");

  s.value(b)[1] = 5.0f;
  CHECK(s.values()[7] == 5.0f);
  s.grad(a)[2] = 3.0f;
  CHECK(s.grads()[2] == 3.0f);
  s.zero_grads();
  CHECK(s.grads()[2] == 0.0f);

  CHECK(s.ref("b").offset == 6);
  CHECK_FALSE(s.find("c").has_value());
  CHECK_THROWS_WITH(s.ref("c"), Catch::Contains("no parameter named 'c'"));
  CHECK_THROWS_WITH(s.add("a", {1}, ParamKind::kWeight), Catch::Contains("'a' registered twice"));
  CHECK_THROWS_WITH(s.add("z", {3, 0}, ParamKind::kWeight), Catch::Contains("dimension 0"));
  CHECK_THROWS_AS(s.add("", {1}, ParamKind::kWeight), Error);
  CHECK_THROWS_AS(s.add("e", {}, ParamKind::kWeight), Error);

  ParameterStore<float> other;
  other.add("x", {1}, ParamKind::kWeight);
  CHECK_THROWS_WITH(other.value(b), Catch::Contains("does not belong"));
}

TEST_CASE("parameter store: same layout across scalar types, value copy", "[nn]") {
  ParameterStore<float> f;
  const Linear lf(f, "lin", 2, 3);
  ParameterStore<double> d;
  const Linear ld(d, "lin", 2, 3);
  CHECK(d.same_layout(f));
  for (std::size_t i = 0; i < f.size(); ++i) f.values()[i] = 0.5f * static_cast<float>(i);
  d.copy_values_from(f);
  for (std::size_t i = 0; i < d.size(); ++i) CHECK(d.values()[i] == 0.5 * static_cast<double>(i));
  ParameterStore<double> wrong;
  const Linear lw(wrong, "lin", 3, 2);
  CHECK_FALSE(wrong.same_layout(f));
  CHECK_THROWS_AS(wrong.copy_values_from(f), Error);
}

TEST_CASE("parameter store: a layout-only store sizes without allocating", "[nn]") {
  ParameterStore<float> full;
  const Linear lf(full, "lin", 4, 3);
  ParameterStore<float> layout(ParameterStore<float>::Storage::kLayoutOnly);
  const Linear ll(layout, "lin", 4, 3);
  CHECK(layout.size() == full.size());
  CHECK(layout.same_layout(full));
  CHECK(layout.values().empty());
  CHECK(layout.grads().empty());
  CHECK_THROWS_WITH(layout.value(layout.ref("lin.weight")),
                    Catch::Contains("layout-only store holds no values"));
  // A layout far beyond any machine's memory is fine to describe: nothing is allocated.
  ParameterStore<float> huge(ParameterStore<float>::Storage::kLayoutOnly);
  huge.add("w", {std::int64_t{1} << 20, std::int64_t{1} << 19}, ParamKind::kWeight);
  CHECK(huge.size() == (std::size_t{1} << 39));
}

TEST_CASE("parameter store: a tensor refused for memory leaves the store unchanged", "[nn]") {
  ParameterStore<float> s;
  s.add("small", {2, 3}, ParamKind::kWeight);
  CHECK_THROWS_WITH(
      s.add("huge", {std::int64_t{1} << 20, std::int64_t{1} << 19}, ParamKind::kWeight),
      Catch::Contains("GiB of memory, more than this machine's"));
  CHECK(s.size() == 6);
  CHECK(s.tensors().size() == 1);
  CHECK(s.values().size() == 6);
  CHECK_FALSE(s.find("huge").has_value());
  const ParamRef next = s.add("next", {4}, ParamKind::kBias);
  CHECK(next.offset == 6);
  CHECK(s.size() == 10);
}
