# Common compile options for every diffuser target.
add_library(diffuser_options INTERFACE)
target_compile_options(diffuser_options INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wno-unused-parameter>)
if(DIFFUSER_NATIVE)
  target_compile_options(diffuser_options INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-march=native>)
endif()
