// Why: the library reports some results as JSON (the same objects the CLI prints); the bindings
// hand them to Python as plain dicts and lists instead of re-building each field by hand.
#pragma once

#include <nanobind/nanobind.h>

#include <nlohmann/json.hpp>

namespace diffuser::python {

/// `j` as Python objects: null -> None, booleans, integers, floats, strings, arrays -> list,
/// objects -> dict (key order kept).
nanobind::object to_python(const nlohmann::ordered_json& j);

}  // namespace diffuser::python
