// Why: the extension module diffuser._core is assembled from one binding file per library
// module (graph, attention, spectral, checkpoints); each adds its part through one function.
#pragma once

#include <nanobind/nanobind.h>

namespace diffuser::python {

void bind_graph(nanobind::module_& m);
void bind_attention(nanobind::module_& m);
void bind_spectral(nanobind::module_& m);
void bind_checkpoint(nanobind::module_& m);
/// The CUDA backend (cuda_available, CudaAttention); only cuda_available in a CPU-only build.
void bind_cuda(nanobind::module_& m);

}  // namespace diffuser::python
