find_package(simdjson REQUIRED)
add_library(driftd_decoder ${CMAKE_CURRENT_LIST_DIR}/decoder.cc)
target_include_directories(driftd_decoder PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(driftd_decoder PUBLIC driftd_core simdjson::simdjson)
