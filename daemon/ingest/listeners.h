// The ingest listeners: TCP, UDP and a Unix stream socket, on one io_context (the first ingest
// thread), which hands the stream connections out over every ingest thread in turn. Sessions only
// move bytes; LineSplitter and LineProcessor do the rest.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "config/config.h"
#include "daemon/asio.h"
#include "daemon/ingest/line_processor.h"

namespace driftd {

class IngestServer {
 public:
  // Listens where `config` says (tcp, udp, unix; each optional) with its limits. `clock` returns
  // unix seconds (the arrival time of records without a timestamp). The listeners and UDP run on
  // `io`; stream connections are served in turn on `io` and on each of `lanes` (one thread's
  // io_context each), lane k counting through Monitor shard k (`io` is lane 0).
  IngestServer(boost::asio::io_context* io, const IngestConfig& config, Monitor* monitor,
               IngestMetrics* metrics, std::function<double()> clock,
               std::vector<boost::asio::io_context*> lanes = {});
  ~IngestServer();

  // Binds every configured listener and starts accepting. On failure returns false with *error
  // naming the listener ("tcp 127.0.0.1:7070: Address already in use"). Call before io->run().
  bool Start(std::string* error);

  // Applies a reloaded configuration's ingest section: listeners whose address changed are bound
  // anew (all of them before any old one closes; on a failure nothing changes and *error names
  // the listener) and the old ones closed, with their queued UDP datagrams read first; open
  // connections stay open. The limits and timeouts apply from now on. *started and *stopped get
  // the listeners opened and closed ("tcp 127.0.0.1:7071"). Must run on the io_context's thread.
  bool Reconfigure(const IngestConfig& next, std::vector<std::string>* started,
                   std::vector<std::string>* stopped, std::string* error);

  // The addresses actually bound (port 0 resolved), e.g. "tcp 127.0.0.1:41234".
  const std::vector<std::string>& bound() const { return bound_; }

  // Stops accepting (connections already queued are accepted first), then reads and processes
  // what every peer has sent: every connection drains concurrently until it is quiet for 100 ms
  // or ends. A sender still streaming 2.5 s after the call is cut off (shutdown(SHUT_RD)) and what
  // it had in flight is counted as reason="shutdown". Closes every socket and calls `done` on the
  // io_context's thread. Must run on that thread (post it there).
  void Drain(std::function<void()> done);

  // Implementation detail shared with the sessions.
  struct Shared;

 private:
  std::shared_ptr<Shared> shared_;
  std::vector<std::string> bound_;
};

}  // namespace driftd
