# Third-party dependencies, all from Debian 12 packages (scripts/setup.sh installs them).
find_package(Eigen3 3.3 REQUIRED NO_MODULE)
find_package(Spectra REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_package(fmt REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(Threads REQUIRED)

# CLI11 is header-only in Debian (no CMake config in 2.1.2): locate the header.
find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)
add_library(diffuser_cli11 INTERFACE)
target_include_directories(diffuser_cli11 SYSTEM INTERFACE ${CLI11_INCLUDE_DIR})

if(DIFFUSER_TESTS)
  find_package(Catch2 2 REQUIRED)
endif()
