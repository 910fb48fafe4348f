// Why: global tokens at random positions make every dense run one row; the CPU kernels pack
// the rows of such short runs kDenseGroupRows to a GEMM (attention/cpu/DenseGroups.hpp) in
// the scores, both hops, dq and dk. A row packed into the wrong slot, a valid prefix cut at the
// wrong place or a dA row not scattered back would change the results only on such patterns.
// So: the grouping itself on hand-made runs, then whole forwards and backwards on patterns
// with scattered globals (one partial group; several groups plus a partial one; a long run
// next to short ones, one of them crossing a group boundary), with valid lengths that cut a
// group, against the reference kernels in double and in float, and 1 vs 2 threads bitwise.
#include <cstring>
#include <string>

#include "attention/SparseAttention.hpp"
#include "attention/cpu/DenseGroups.hpp"
#include "core/Threads.hpp"
#include "graph/PatternSpec.hpp"
#include "graph/Patterns.hpp"
#include "tests/Testing.hpp"
#include "tests/attention/AttentionTestSupport.hpp"

using namespace diffuser::attention;
using namespace diffuser::attention::test;
using diffuser::Diffusion;
using diffuser::attention::cpu::DenseGroups;
using diffuser::attention::cpu::DenseUnit;
using diffuser::attention::cpu::kDenseGroupRows;
using diffuser::testing::rel_error;

namespace {

// The rows of unit u, in order.
std::vector<Index> unit_rows(const DenseGroups& groups, std::int64_t u) {
  const DenseUnit unit = groups[u];
  std::vector<Index> rows;
  for (Index q = 0; q < unit.size; ++q) rows.push_back(unit.row(q));
  return rows;
}

struct Case {
  std::string name;
  diffuser::graph::PatternSpec spec;
  Index n;
};

diffuser::graph::PatternSpec spec_of(const std::string& text) {
  return diffuser::graph::parse_pattern_spec(text);
}

std::vector<Case> cases() {
  std::vector<Case> out;
  out.push_back({"6 random globals (one partial group)",
                 spec_of("blocks=8,global=6,global-positions=random,random=4"), 150});
  out.push_back({"40 random globals (groups of 16, 16, 8)",
                 spec_of("blocks=8,global=40,global-positions=random,random=4,seed=3"), 200});
  // A long run 0..19, a run of 15 (100..114) that crosses a group boundary, scattered rows.
  auto list = spec_of("blocks=8,random=3");
  list.global_positions = diffuser::graph::GlobalPositions::kList;
  for (Index g = 0; g < 20; ++g) list.global_list.push_back(g);
  for (const Index g : {30, 41, 57, 63, 88}) list.global_list.push_back(g);
  for (Index g = 100; g < 115; ++g) list.global_list.push_back(g);
  for (const Index g : {130, 131, 150, 171, 190, 199}) list.global_list.push_back(g);
  list.global = static_cast<Index>(list.global_list.size());
  out.push_back({"a long run, a run of 15 across groups, scattered rows", list, 200});
  return out;
}

// Lengths for a case: n, one that cuts a group inside (rows valid, then not), one below most
// dense rows. Checks that the plan has the grouped structure the case is meant to test.
std::vector<Index> lengths_for(const AttentionPlan& plan) {
  const DenseGroups groups(plan.dense_runs());
  REQUIRE(groups.size() >= 1);
  // The last unit is a group (the runs of these patterns are mostly one row).
  const DenseUnit last = groups[groups.size() - 1];
  REQUIRE_FALSE(last.contiguous());
  REQUIRE(last.size >= 3);
  const Index cut = last.row(last.size / 2);  // rows < cut valid: a proper prefix of `last`
  const Index valid = last.valid(cut);
  REQUIRE(valid > 0);
  REQUIRE(valid < last.size);
  return {plan.n(), cut, groups[0].row(0) + 1};
}

template <typename T>
struct Run {
  std::vector<T> z;
  AttentionSaved<T> saved;
  Grads<T> grads;
};

template <typename T>
Run<T> run(const AttentionPlan& plan, const AttentionOptions& o, const std::vector<Index>& lengths,
           int dim, Kernels kernels) {
  const auto batch = static_cast<std::int64_t>(lengths.size());
  const std::size_t size = lengths.size() * plan.n() * o.heads * dim;
  const auto q = random_tensor<T>(size, 1), k = random_tensor<T>(size, 2),
             v = random_tensor<T>(size, 3), dz = random_tensor<T>(size, 4);
  Run<T> r;
  r.z = run_forward<T>(plan, o, q, k, v, batch, lengths, &r.saved, kernels);
  r.grads = run_backward<T>(plan, q, k, v, batch, lengths, r.saved, dz, kernels);
  return r;
}

AttentionOptions options(double dropout, MemoryMode memory) {
  AttentionOptions o;
  o.heads = 2;
  o.diffusion = Diffusion::ppr(0.2, 4);
  o.dropout = dropout;
  o.seed = 11;
  o.stream = 2;
  o.memory = memory;
  return o;
}

template <typename T>
bool bitwise_equal(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

template <typename T>
void check_against_reference(double tol_z, double tol_dqk, double tol_dv) {
  for (const Case& c : cases()) {
    const AttentionPlan plan(diffuser::graph::build_pattern(c.n, c.spec));
    const auto lengths = lengths_for(plan);
    for (const double dropout : {0.0, 0.1}) {
      for (const MemoryMode memory : {MemoryMode::kStoreHops, MemoryMode::kRecompute}) {
        INFO(c.name << ", dropout " << dropout << ", memory " << static_cast<int>(memory));
        const auto o = options(dropout, memory);
        const auto fast = run<T>(plan, o, lengths, 12, Kernels::kOptimized);
        const auto ref = run<T>(plan, o, lengths, 12, Kernels::kReference);
        CHECK(rel_error(fast.z, ref.z) <= tol_z);
        CHECK(rel_error(fast.saved.attn, ref.saved.attn) <= tol_z);
        CHECK(rel_error(fast.saved.hops, ref.saved.hops) <= tol_z);
        CHECK(rel_error(fast.grads.dq, ref.grads.dq) <= tol_dqk);
        CHECK(rel_error(fast.grads.dk, ref.grads.dk) <= tol_dqk);
        CHECK(rel_error(fast.grads.dv, ref.grads.dv) <= tol_dv);
        CHECK(rel_error(fast.grads.dtheta, ref.grads.dtheta) <= tol_dv);
      }
    }
  }
}

template <typename T>
void check_threads() {
  for (const Case& c : cases()) {
    const AttentionPlan plan(diffuser::graph::build_pattern(c.n, c.spec));
    const auto lengths = lengths_for(plan);
    const auto o = options(0.1, MemoryMode::kStoreHops);
    Run<T> one, two;
    {
      diffuser::ThreadCountGuard guard(1);
      one = run<T>(plan, o, lengths, 16, Kernels::kOptimized);
    }
    {
      diffuser::ThreadCountGuard guard(2);
      two = run<T>(plan, o, lengths, 16, Kernels::kOptimized);
    }
    INFO(c.name);
    CHECK(bitwise_equal(one.z, two.z));
    CHECK(bitwise_equal(one.saved.attn, two.saved.attn));
    CHECK(bitwise_equal(one.saved.hops, two.saved.hops));
    CHECK(bitwise_equal(one.grads.dq, two.grads.dq));
    CHECK(bitwise_equal(one.grads.dk, two.grads.dk));
    CHECK(bitwise_equal(one.grads.dv, two.grads.dv));
    CHECK(bitwise_equal(one.grads.dtheta, two.grads.dtheta));
  }
}

}  // namespace

TEST_CASE("Dense groups: long runs kept, short-run rows packed 16 at a time",
          "[attention][dense-groups]") {
  // Runs: 0..19 (long), 21, 23..24, 30..44 (15 rows: short), 50..65 (16: long), then 7 rows.
  std::vector<RowRange> runs{{0, 20}, {21, 22}, {23, 25}, {30, 45}, {50, 66}};
  for (Index i = 70; i < 84; i += 2) runs.push_back({i, i + 1});
  const DenseGroups groups(runs);
  // 2 long runs; 1 + 2 + 15 + 7 = 25 short rows: groups of 16 and 9.
  REQUIRE(groups.size() == 4);
  CHECK(groups[0].contiguous());
  CHECK(groups[0].first == 0);
  CHECK(groups[0].size == 20);
  CHECK(groups[1].contiguous());
  CHECK(groups[1].first == 50);
  CHECK(groups[1].size == 16);
  std::vector<Index> short_rows{21, 23, 24};
  for (Index i = 30; i < 45; ++i) short_rows.push_back(i);
  for (Index i = 70; i < 84; i += 2) short_rows.push_back(i);
  CHECK(unit_rows(groups, 2) ==
        std::vector<Index>(short_rows.begin(), short_rows.begin() + kDenseGroupRows));
  CHECK(unit_rows(groups, 3) ==
        std::vector<Index>(short_rows.begin() + kDenseGroupRows, short_rows.end()));
  CHECK_FALSE(groups[2].contiguous());
  // Valid prefixes.
  CHECK(groups[0].valid(200) == 20);
  CHECK(groups[0].valid(5) == 5);
  CHECK(groups[0].valid(0) == 0);
  CHECK(groups[1].valid(10) == 0);
  CHECK(groups[2].valid(24) == 2);  // 21, 23
  CHECK(groups[2].valid(31) == 4);  // 21, 23, 24, 30
  CHECK(groups[3].valid(75) == 5);  // 43, 44, 70, 72, 74
  CHECK(groups[3].valid(1000) == groups[3].size);
  CHECK(DenseGroups(std::span<const RowRange>{}).size() == 0);
}

TEST_CASE("Dense groups: optimised kernels match the reference in double",
          "[attention][dense-groups]") {
  check_against_reference<double>(1e-12, 1e-11, 1e-12);
}

TEST_CASE("Dense groups: optimised kernels match the reference in float",
          "[attention][dense-groups]") {
  // The tolerances of "Optimised kernels match the reference kernels" (test_attention_kernels).
  check_against_reference<float>(1e-5, 1e-4, 1e-5);
}

TEST_CASE("Dense groups: 1 thread and 2 threads give bitwise identical results",
          "[attention][dense-groups][determinism]") {
  check_threads<float>();
  check_threads<double>();
}
