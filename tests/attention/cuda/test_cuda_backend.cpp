// Why: properties of the CUDA backend beyond parity: the device draws the same dropout numbers
// as core/Rng.hpp bit for bit, runs repeat bit for bit (no atomics), the device-pointer API
// gives the same bits as the host API, and bad input fails with diffuser::Error naming it.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include "attention/cuda/DeviceBuffer.hpp"
#include "core/Error.hpp"
#include "core/Rng.hpp"
#include "tests/attention/cuda/CudaTestSupport.hpp"

namespace diffuser::attention::cuda::test {
namespace {

using Catch::Matchers::Contains;

template <typename T>
bool bitwise_equal(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

std::vector<float> download(const DeviceBuffer<float>& device) {
  std::vector<float> host(device.size());
  DIFFUSER_CUDA_CHECK(
      cudaMemcpy(host.data(), device.data(), device.bytes(), cudaMemcpyDeviceToHost));
  return host;
}

// A case with long rows under the tiny split, padding and dropout.
ParityCase determinism_case() {
  return ParityCase{"",
                    200,
                    PatternKind{0.06, true, false, 2, 0},
                    false,
                    3,
                    8,
                    {200, 130},
                    Diffusion::ppr(0.1, 4),
                    0.15,
                    MemoryMode::kRecompute};
}

TEST_CASE("CUDA dropout draws equal core/Rng.hpp bit for bit", "[cuda][dropout]") {
  if (!have_cuda_device()) return;
  struct Draw {
    std::uint64_t seed, stream, first;
  };
  // Includes counters that cross the 32-bit boundary of the index and a stream above 2^32.
  for (const Draw d :
       {Draw{0, 0, 0}, Draw{1234, 7, 1000}, Draw{42, 0x1'0000'0003ULL, 0xFFFFF000ULL},
        Draw{0xDEADBEEFCAFEULL, 3, (1ULL << 40) - 5}}) {
    const std::int64_t count = 8192;
    const std::vector<float> gpu = counter_uniform_on_device(d.seed, d.stream, d.first, count);
    std::vector<float> cpu(static_cast<std::size_t>(count));
    for (std::int64_t t = 0; t < count; ++t) {
      cpu[static_cast<std::size_t>(t)] =
          counter_uniform(d.seed, d.stream, d.first + static_cast<std::uint64_t>(t));
    }
    CHECK(bitwise_equal(gpu, cpu));
  }
}

TEST_CASE("CUDA runs repeat bit for bit on both paths", "[cuda][determinism]") {
  if (!have_cuda_device()) return;
  const ParityCase c = determinism_case();
  const AttentionPlan plan(case_pattern(c, 31));
  const CaseTensors t = case_tensors(c, 32);
  for (const CudaPath path : {CudaPath::kFused, CudaPath::kCusparse}) {
    for (const CudaAttentionConfig& config : split_configs(path)) {
      INFO("path " << cuda_path_name(path) << ", long_row_degree " << config.long_row_degree);
      CudaAttention gpu(plan, config);
      const RunOutputs a = run_gpu(gpu, c, t);
      const RunOutputs b = run_gpu(gpu, c, t);
      CHECK(bitwise_equal(a.z, b.z));
      CHECK(bitwise_equal(a.saved.attn, b.saved.attn));
      CHECK(bitwise_equal(a.saved.attn_dropped, b.saved.attn_dropped));
      CHECK(bitwise_equal(a.dq, b.dq));
      CHECK(bitwise_equal(a.dk, b.dk));
      CHECK(bitwise_equal(a.dv, b.dv));
      CHECK(bitwise_equal(a.dtheta, b.dtheta));
    }
  }
}

TEST_CASE("CUDA device-pointer API gives the bits of the host API", "[cuda][api]") {
  if (!have_cuda_device()) return;
  const ParityCase c = determinism_case();
  const AttentionPlan plan(case_pattern(c, 41));
  const CaseTensors t = case_tensors(c, 42);
  const AttentionOptions o = case_options(c);
  CudaAttention gpu(plan, CudaAttentionConfig{});
  const RunOutputs host = run_gpu(gpu, c, t);

  const DeviceBuffer<float> q(std::span<const float>(t.q), "q"),
      k(std::span<const float>(t.k), "k"), v(std::span<const float>(t.v), "v"),
      dz(std::span<const float>(t.dz), "dz");
  DeviceBuffer<float> z(t.q.size()), dq(t.q.size()), dk(t.q.size()), dv(t.q.size());
  const std::int64_t batch = static_cast<std::int64_t>(c.lengths.size());
  const AttentionInputs<float> in{std::span<const float>(q.data(), q.size()),
                                  std::span<const float>(k.data(), k.size()),
                                  std::span<const float>(v.data(), v.size()), batch, c.lengths};
  const std::span<float> z_span(z.data(), z.size());
  const AttentionGradients<float> grads{std::span<float>(dq.data(), dq.size()),
                                        std::span<float>(dk.data(), dk.size()),
                                        std::span<float>(dv.data(), dv.size()),
                                        {}};

  SECTION("forward_device / backward_device keep the state on the device") {
    CudaSaved saved;
    CHECK(saved.empty());
    gpu.forward_device(o, in, z_span, &saved);
    REQUIRE_FALSE(saved.empty());
    CHECK(saved.device_bytes() > 0);
    CHECK(bitwise_equal(download(z), host.z));
    CHECK(bitwise_equal(saved.to_host().attn_dropped, host.saved.attn_dropped));
    std::vector<double> dtheta(static_cast<std::size_t>(c.diffusion.degree()) + 1);
    AttentionGradients<float> with_theta = grads;
    with_theta.dtheta = dtheta;
    gpu.backward_device(in, saved, std::span<const float>(dz.data(), dz.size()), with_theta);
    CHECK(bitwise_equal(download(dq), host.dq));
    CHECK(bitwise_equal(download(dk), host.dk));
    CHECK(bitwise_equal(download(dv), host.dv));
    CHECK(bitwise_equal(dtheta, host.dtheta));
  }
  SECTION("forward / backward use device tensors in place") {
    AttentionSaved<float> saved;
    gpu.forward(o, in, z_span, &saved);
    CHECK(bitwise_equal(download(z), host.z));
    gpu.backward(in, saved, std::span<const float>(dz.data(), dz.size()), grads);
    CHECK(bitwise_equal(download(dk), host.dk));
  }
  SECTION("a CPU record uploaded with CudaSaved::from_host drives backward_device") {
    const CudaSaved saved = CudaSaved::from_host(host.saved);
    gpu.backward_device(in, saved, std::span<const float>(dz.data(), dz.size()), grads);
    CHECK(bitwise_equal(download(dq), host.dq));
  }
  SECTION("a state copied device-to-device (copy_from_device) drives backward_device") {
    CudaSaved saved;
    gpu.forward_device(o, in, z_span, &saved);
    const CudaSaved::DeviceArrays d = saved.device_arrays();
    REQUIRE(d.attn != nullptr);
    const auto span_of = [](const float* p, std::size_t size) {
      return p == nullptr ? std::span<const float>() : std::span<const float>(p, size);
    };
    const CudaSaved copy = CudaSaved::copy_from_device(
        saved.geometry(), saved.options(), saved.plan_id(), plan.nnz(),
        span_of(d.attn, d.attn_size), span_of(d.attn_dropped, d.attn_dropped_size),
        span_of(d.hops, d.hops_size), d.device);
    gpu.backward_device(in, copy, std::span<const float>(dz.data(), dz.size()), grads);
    CHECK(bitwise_equal(download(dq), host.dq));
    CHECK(bitwise_equal(download(dv), host.dv));
    CHECK_THROWS_WITH(
        CudaSaved::copy_from_device(saved.geometry(), saved.options(), saved.plan_id(), plan.nnz(),
                                    span_of(d.attn, d.attn_size - 1), {}, {}, 0),
        Contains("saved attn has"));
  }
}

TEST_CASE("ScopedDevice restores the caller's current device", "[cuda][api]") {
  if (!have_cuda_device()) return;
  const int last = cuda_device_count() - 1;
  int before = -1;
  REQUIRE(cudaGetDevice(&before) == cudaSuccess);
  {
    const ScopedDevice on(last);
    int now = -1;
    REQUIRE(cudaGetDevice(&now) == cudaSuccess);
    CHECK(now == last);
  }
  int after = -1;
  REQUIRE(cudaGetDevice(&after) == cudaSuccess);
  CHECK(after == before);
  CHECK_THROWS_AS(ScopedDevice(cuda_device_count() + 3), diffuser::Error);
}

TEST_CASE("CUDA attention errors name the input and the problem", "[cuda][errors]") {
  if (!have_cuda_device()) return;
  const ParityCase c = determinism_case();
  const AttentionPlan plan(case_pattern(c, 51));
  const CaseTensors t = case_tensors(c, 52);
  AttentionOptions o = case_options(c);
  CudaAttention gpu(plan, CudaAttentionConfig{});
  std::vector<float> z(t.q.size());
  const AttentionInputs<float> in = case_inputs(c, t);

  SECTION("wrong output size") {
    std::vector<float> small(z.size() - 1);
    CHECK_THROWS_WITH(gpu.forward(o, in, small, nullptr), Contains("z has"));
  }
  SECTION("dropout outside [0, 1)") {
    o.dropout = 1.0;
    CHECK_THROWS_WITH(gpu.forward(o, in, z, nullptr), Contains("dropout"));
  }
  SECTION("non-finite host input") {
    CaseTensors bad = t;
    bad.v[17] = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH(gpu.forward(o, case_inputs(c, bad), z, nullptr),
                      Contains("input v") && Contains("nan"));
  }
  SECTION("non-finite device input") {
    CaseTensors bad = t;
    bad.k[33] = std::numeric_limits<float>::infinity();
    const DeviceBuffer<float> q(std::span<const float>(bad.q), "q"),
        k(std::span<const float>(bad.k), "k"), v(std::span<const float>(bad.v), "v");
    DeviceBuffer<float> zd(z.size());
    const AttentionInputs<float> dev{
        std::span<const float>(q.data(), q.size()), std::span<const float>(k.data(), k.size()),
        std::span<const float>(v.data(), v.size()), in.batch, c.lengths};
    CHECK_THROWS_WITH(gpu.forward_device(o, dev, std::span<float>(zd.data(), zd.size()), nullptr),
                      Contains("input k") && Contains("inf"));
  }
  SECTION("host and device tensors mixed in one call") {
    DeviceBuffer<float> zd(z.size());
    CHECK_THROWS_WITH(gpu.forward(o, in, std::span<float>(zd.data(), zd.size()), nullptr),
                      Contains("host memory") || Contains("device memory"));
  }
  SECTION("host tensors given to forward_device") {
    CHECK_THROWS_WITH(gpu.forward_device(o, in, z, nullptr), Contains("must be device memory"));
  }
  SECTION("backward with the state of another plan") {
    AttentionSaved<float> saved;
    gpu.forward(o, in, z, &saved);
    const AttentionPlan other(case_pattern(c, 51));
    CudaAttention gpu_other(other, CudaAttentionConfig{});
    std::vector<float> dq(z.size()), dk(z.size()), dv(z.size());
    CHECK_THROWS_WITH(
        gpu_other.backward(in, saved, t.dz, AttentionGradients<float>{dq, dk, dv, {}}),
        Contains("another plan"));
  }
  SECTION("backward with a truncated record") {
    AttentionSaved<float> saved;
    gpu.forward(o, in, z, &saved);
    saved.attn.pop_back();
    std::vector<float> dq(z.size()), dk(z.size()), dv(z.size());
    CHECK_THROWS_WITH(gpu.backward(in, saved, t.dz, AttentionGradients<float>{dq, dk, dv, {}}),
                      Contains("saved attn"));
  }
  SECTION("backward_device with an empty state") {
    const CudaSaved empty;
    std::vector<float> dq(z.size()), dk(z.size()), dv(z.size());
    CHECK_THROWS_WITH(
        gpu.backward_device(in, empty, t.dz, AttentionGradients<float>{dq, dk, dv, {}}),
        Contains("empty"));
  }
  SECTION("an unknown path name") {
    CHECK_THROWS_WITH(parse_cuda_path("cublas"), Contains("cublas"));
    CHECK(parse_cuda_path(cuda_path_name(CudaPath::kCusparse)) == CudaPath::kCusparse);
  }
  SECTION("a device index that does not exist") {
    CudaAttentionConfig config;
    config.device = cuda_device_count();
    CHECK_THROWS_WITH(CudaAttention(plan, config), Contains("does not exist"));
  }
}

}  // namespace
}  // namespace diffuser::attention::cuda::test
