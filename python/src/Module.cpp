// Why: the entry point of diffuser._core. It maps diffuser::Error to the Python exception
// diffuser.DiffuserError (a ValueError) and registers the bindings of every module.
#include <nanobind/nanobind.h>

#include "Bindings.hpp"
#include "core/Error.hpp"
#include "core/Threads.hpp"

namespace nb = nanobind;

NB_MODULE(_core, m) {
  m.doc() = "diffuser C++ core: token graphs, sparse attention with diffusion, spectral analysis";
  nb::exception<diffuser::Error>(m, "DiffuserError", PyExc_ValueError);
  m.def("num_threads", &diffuser::num_threads, "OpenMP threads the kernels use");
  m.def(
      "set_num_threads",
      [](int n) {
        if (n < 1) throw nb::value_error("set_num_threads: n must be >= 1");
        diffuser::set_num_threads(n);
      },
      nb::arg("n"));
#ifdef DIFFUSER_HAVE_CUDA
  m.attr("has_cuda") = true;
#else
  m.attr("has_cuda") = false;
#endif
  diffuser::python::bind_graph(m);
  diffuser::python::bind_attention(m);
  diffuser::python::bind_spectral(m);
  diffuser::python::bind_checkpoint(m);
  diffuser::python::bind_cuda(m);
}
