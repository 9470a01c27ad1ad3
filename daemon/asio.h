// Boost.Asio for driftd. Boost 1.74's awaitable.hpp uses std::exchange without including
// <utility>, so <utility> must come first; this header keeps that order out of clang-format's
// reach.
#pragma once

// clang-format off
#include <utility>
#include <boost/asio.hpp>
// clang-format on
