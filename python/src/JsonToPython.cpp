// Why: JSON values as Python objects (see JsonToPython.hpp).
#include "JsonToPython.hpp"

#include <nanobind/stl/string.h>

#include <cstdint>
#include <string>

namespace diffuser::python {

namespace nb = nanobind;

nb::object to_python(const nlohmann::ordered_json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      return nb::none();
    case nlohmann::json::value_t::boolean:
      return nb::bool_(j.get<bool>());
    case nlohmann::json::value_t::number_integer:
      return nb::int_(j.get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned:
      return nb::int_(j.get<std::uint64_t>());
    case nlohmann::json::value_t::number_float:
      return nb::float_(j.get<double>());
    case nlohmann::json::value_t::string:
      return nb::str(j.get_ref<const std::string&>().c_str());
    case nlohmann::json::value_t::array: {
      nb::list l;
      for (const auto& v : j) l.append(to_python(v));
      return l;
    }
    case nlohmann::json::value_t::object: {
      nb::dict d;
      for (const auto& [key, v] : j.items()) d[key.c_str()] = to_python(v);
      return d;
    }
    default:
      throw nb::type_error("a JSON value of a type Python has no equivalent for (binary)");
  }
}

}  // namespace diffuser::python
