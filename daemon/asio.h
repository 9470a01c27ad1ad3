// Boost.Asio for driftd, and the listen sequence its acceptors share. Boost 1.74's awaitable.hpp
// uses std::exchange without including <utility>, so <utility> must come first; this header keeps
// that order out of clang-format's reach.
#pragma once

// clang-format off
#include <utility>
#include <boost/asio.hpp>
// clang-format on

namespace driftd {

// Opens `acceptor` on `endpoint`, binds (with SO_REUSEADDR when `reuse_address`) and listens.
// Returns the first error, or success.
template <class Acceptor, class Endpoint>
boost::system::error_code Listen(Acceptor* acceptor, const Endpoint& endpoint, bool reuse_address) {
  boost::system::error_code ec;
  acceptor->open(endpoint.protocol(), ec);
  if (!ec && reuse_address) acceptor->set_option(boost::asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(boost::asio::socket_base::max_listen_connections, ec);
  return ec;
}

// Accepts, without waiting, every connection the kernel already completed on `acceptor` (before
// it is closed at a reload or shutdown: they may already hold data), handing each socket to
// `admit`. Leaves `acceptor` non-blocking.
template <class Acceptor, class Admit>
void AcceptQueued(Acceptor* acceptor, boost::asio::io_context* io, Admit admit) {
  boost::system::error_code ec;
  acceptor->non_blocking(true, ec);
  for (;;) {
    typename Acceptor::protocol_type::socket socket(*io);
    acceptor->accept(socket, ec);
    if (ec) return;
    admit(std::move(socket));
  }
}

}  // namespace driftd
