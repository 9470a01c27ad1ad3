// SHA-256 of a byte string, as lowercase hex: identifies the reference document a model was loaded
// from (driftd_reference_info{sha256}).
#pragma once

#include <string>
#include <string_view>

namespace driftd {

std::string Sha256Hex(std::string_view data);

}  // namespace driftd
