// The query string of a request target, decoded: "model=a%20b&feature=x&bins" -> its pairs in
// order. No sockets; what the status endpoint's filters are read from.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace driftd {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// Splits `query` (the target after '?', without it) on '&' into key=value pairs, in order, with
// %XX and '+' decoded in both; a part without '=' is a key with an empty value and empty parts
// are skipped. Returns nullopt, with *error naming the part, when a '%' is not followed by two
// hex digits. Thread-safe.
std::optional<QueryParams> ParseQuery(std::string_view query, std::string* error);

// The inverse, for one key or value: every byte but the unreserved ones (letters, digits, '-',
// '_', '.', '~') as %XX. Thread-safe.
std::string PercentEncode(std::string_view s);

}  // namespace driftd
