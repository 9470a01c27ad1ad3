#include "daemon/ingest/listeners.h"

#include <algorithm>
#include <cstdio>

#include "daemon/duration.h"

namespace driftd {

namespace asio = boost::asio;
using boost::system::error_code;

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void Drain(std::chrono::steady_clock::time_point deadline) = 0;
};

struct IngestServer::Shared {
  asio::io_context* io;
  IngestConfig options;
  Monitor* monitor;
  IngestMetrics* metrics;
  std::function<double()> clock;
  LogRateLimiter log_limiter{5};
  std::optional<asio::ip::tcp::acceptor> tcp;
  std::optional<asio::local::stream_protocol::acceptor> unix_acceptor;
  std::optional<asio::ip::udp::socket> udp;
  std::set<SessionBase*> sessions;  // open stream sessions (ingest thread only)
  bool draining = false;
  bool udp_drained = true;
  std::chrono::steady_clock::time_point drain_deadline;
  std::function<void()> on_drained;  // called once, when draining and nothing is left open

  // Called whenever a session or the UDP socket finishes; reports the end of a drain.
  void Settled() {
    if (draining && sessions.empty() && udp_drained && on_drained) {
      auto done = std::move(on_drained);
      on_drained = nullptr;
      done();
    }
  }
};

namespace {

constexpr size_t kReadBuffer = 256 * 1024;
// While draining at shutdown, a connection quiet this long has nothing more in flight.
constexpr std::chrono::milliseconds kQuiet(100);
// Draining all connections takes at most this long (the whole shutdown must fit in 5 s).
constexpr std::chrono::milliseconds kDrainBudget(2500);
// How many buffers one connection reads before the others get a turn, while draining.
constexpr int kDrainChunksPerTurn = 8;
// At the drain deadline, at most this much of a connection's receive buffer is read to count the
// lines it held (a sender can refill it as fast as it is read).
constexpr size_t kCutOffReadLimit = 16 * kReadBuffer;

// One stream connection (TCP or Unix).
template <class Protocol>
class StreamSession : public SessionBase,
                      public std::enable_shared_from_this<StreamSession<Protocol>> {
 public:
  StreamSession(std::shared_ptr<IngestServer::Shared> shared, typename Protocol::socket socket,
                Transport transport)
      : shared_(std::move(shared)),
        socket_(std::move(socket)),
        timer_(*shared_->io),
        metrics_(&shared_->metrics->transport(transport)),
        processor_(shared_->monitor, metrics_, shared_->metrics->values(), &shared_->log_limiter,
                   shared_->options.max_line_bytes),
        buffer_(kReadBuffer),
        transport_(transport) {}

  void Start() {
    shared_->sessions.insert(this);
    metrics_->connections->Increment();
    ArmTimer();
    Read();
  }

  // Starts draining: the pending read completes (with any bytes it already took, or aborted),
  // and its handler goes on with DrainStep() until the peer is quiet, ends the stream, or the
  // drain deadline passes.
  void Drain(std::chrono::steady_clock::time_point deadline) override {
    draining_ = true;
    deadline_ = deadline;
    error_code ec;
    timer_.cancel();
    socket_.cancel(ec);
  }

  ~StreamSession() override {
    // Only reached unclosed when a handler threw (the event loop caught it): leave no dangling
    // pointer in the session set, and no connection counted that is gone.
    if (!closed_) {
      metrics_->connections->Decrement();
      shared_->sessions.erase(this);
      shared_->Settled();
    }
  }

 private:
  void ArmTimer() {
    timer_.expires_after(SecondsToDuration(shared_->options.idle_timeout_seconds));
    timer_.async_wait([self = this->shared_from_this()](error_code ec) {
      if (ec || self->closed_ || self->draining_) return;
      self->processor_.Error(Reason::kIdleTimeout, "no data for idle_timeout_seconds; closing");
      self->Finish();
    });
  }

  void Read() {
    socket_.async_read_some(asio::buffer(buffer_),
                            [self = this->shared_from_this()](error_code ec, size_t n) {
                              if (self->closed_) return;
                              if (n > 0) self->Process(n);
                              if (self->draining_) {
                                // Cancelled by Drain() (operation_aborted) or not: either way
                                // the kernel may still hold what the peer sent.
                                if (ec && ec != asio::error::operation_aborted) {
                                  self->Finish();
                                } else {
                                  self->DrainStep();
                                }
                                return;
                              }
                              if (ec) {
                                self->Finish();
                                return;
                              }
                              self->ArmTimer();
                              self->Read();
                            });
  }

  // One step of the drain: reads what the kernel holds for this connection without blocking, a
  // bounded number of chunks at a time so that every connection drains in turn, then waits for
  // more data, for kQuiet of silence (the peer has nothing in flight: close), or for the deadline
  // (the peer is still sending: cut it off).
  void DrainStep() {
    if (closed_) return;
    error_code ec;
    socket_.non_blocking(true, ec);
    for (int chunk = 0; chunk < kDrainChunksPerTurn; ++chunk) {
      if (std::chrono::steady_clock::now() >= deadline_) {
        CutOff();
        return;
      }
      const size_t n = socket_.read_some(asio::buffer(buffer_), ec);
      if (ec == asio::error::would_block) {
        WaitDuringDrain();
        return;
      }
      if (ec) {  // end of stream, or the peer is gone: what was sent has been read
        Finish();
        return;
      }
      Process(n);
    }
    asio::post(*shared_->io, [self = this->shared_from_this()] { self->DrainStep(); });
  }

  void WaitDuringDrain() {
    const uint64_t wait = ++drain_wait_;
    const auto now = std::chrono::steady_clock::now();
    timer_.expires_at(std::min(now + kQuiet, deadline_));
    timer_.async_wait([self = this->shared_from_this(), wait](error_code ec) {
      if (ec || self->closed_ || wait != self->drain_wait_) return;
      ++self->drain_wait_;  // the socket wait below is stale now
      if (std::chrono::steady_clock::now() >= self->deadline_) {
        self->CutOff();
      } else {
        self->Finish();  // quiet for kQuiet: nothing more in flight
      }
    });
    socket_.async_wait(Protocol::socket::wait_read,
                       [self = this->shared_from_this(), wait](error_code ec) {
                         if (self->closed_ || wait != self->drain_wait_) return;
                         ++self->drain_wait_;  // the timer is stale now
                         self->timer_.cancel();
                         if (ec) {
                           self->Finish();
                         } else {
                           self->DrainStep();
                         }
                       });
  }

  // The drain deadline passed while the peer was still sending: stop reading (SHUT_RD), count
  // what it had in flight (its unfinished line and the complete lines still in the receive
  // buffer, up to kCutOffReadLimit bytes) as reason="shutdown", and close.
  void CutOff() {
    error_code ec;
    socket_.shutdown(Protocol::socket::shutdown_receive, ec);
    uint64_t lost = processor_.DropPartialLine() ? 1 : 0;
    socket_.non_blocking(true, ec);
    for (size_t read = 0; read < kCutOffReadLimit;) {
      const size_t n = socket_.read_some(asio::buffer(buffer_), ec);
      if (ec) break;
      lost += static_cast<uint64_t>(std::count(buffer_.data(), buffer_.data() + n, '\n'));
      read += n;
    }
    metrics_->Error(Reason::kShutdown, static_cast<double>(lost));
    Log(spdlog::level::warn, "connection cut off at the shutdown deadline",
        {{"transport", TransportName(transport_)}, {"lines_in_flight", lost}});
    Finish();
  }

  void Process(size_t n) {
    processor_.Feed(std::string_view(buffer_.data(), n), shared_->clock());
    processor_.Flush();
  }

  void Finish() {
    if (closed_) return;
    closed_ = true;
    // A last line without its newline is still a record if it decodes; otherwise it was cut off.
    processor_.EndStream(shared_->clock());
    processor_.Flush();
    error_code ec;
    timer_.cancel();
    socket_.close(ec);
    metrics_->connections->Decrement();
    shared_->sessions.erase(this);
    shared_->Settled();
  }

  std::shared_ptr<IngestServer::Shared> shared_;
  typename Protocol::socket socket_;
  asio::steady_timer timer_;
  TransportMetrics* metrics_;
  LineProcessor processor_;
  std::vector<char> buffer_;
  Transport transport_;
  bool closed_ = false;
  bool draining_ = false;
  uint64_t drain_wait_ = 0;  // the current drain wait; older timer/socket waits are stale
  std::chrono::steady_clock::time_point deadline_;
};

template <class Protocol>
void Accept(std::shared_ptr<IngestServer::Shared> shared, typename Protocol::acceptor* acceptor,
            Transport transport) {
  acceptor->async_accept([shared, acceptor, transport](error_code ec,
                                                       typename Protocol::socket socket) {
    if (shared->draining || !acceptor->is_open()) return;
    if (!ec) {
      if (shared->sessions.size() >= shared->options.max_connections) {
        shared->metrics->transport(transport).Error(Reason::kTooManyConnections);
        uint64_t suppressed = 0;
        if (shared->log_limiter.Allow(&suppressed)) {
          Log(spdlog::level::warn, "connection refused: max_connections reached",
              {{"transport", TransportName(transport)},
               {"max_connections", static_cast<uint64_t>(shared->options.max_connections)}});
        }
        error_code ignored;
        socket.close(ignored);
      } else {
        std::make_shared<StreamSession<Protocol>>(shared, std::move(socket), transport)->Start();
      }
    }
    Accept<Protocol>(shared, acceptor, transport);
  });
}

// Accepts, without waiting, every connection already queued on `acceptor` (at shutdown).
template <class Protocol>
void AcceptPending(const std::shared_ptr<IngestServer::Shared>& shared,
                   typename Protocol::acceptor* acceptor, Transport transport) {
  error_code ec;
  acceptor->non_blocking(true, ec);
  for (;;) {
    typename Protocol::socket socket(*shared->io);
    acceptor->accept(socket, ec);
    if (ec) return;
    std::make_shared<StreamSession<Protocol>>(shared, std::move(socket), transport)->Start();
  }
}

// One UDP socket: every datagram holds whole lines.
class UdpReceiver : public std::enable_shared_from_this<UdpReceiver> {
 public:
  explicit UdpReceiver(std::shared_ptr<IngestServer::Shared> shared)
      : shared_(std::move(shared)),
        metrics_(&shared_->metrics->transport(Transport::kUdp)),
        processor_(shared_->monitor, metrics_, shared_->metrics->values(), &shared_->log_limiter,
                   shared_->options.max_line_bytes),
        buffer_(65536) {}

  void Receive() {
    shared_->udp->async_receive_from(asio::buffer(buffer_), sender_,
                                     [self = shared_from_this()](error_code ec, size_t n) {
                                       if (n > 0) self->Datagram(n);
                                       if (self->shared_->draining) {
                                         self->DrainNow();
                                         return;
                                       }
                                       if (!ec || ec != asio::error::operation_aborted)
                                         self->Receive();
                                     });
  }

 private:
  // Processes the datagrams already queued on the socket (until none is left or the drain
  // deadline passes, however fast senders go on sending), then closes it.
  void DrainNow() {
    error_code ec;
    shared_->udp->non_blocking(true, ec);
    while (std::chrono::steady_clock::now() < shared_->drain_deadline) {
      const size_t n = shared_->udp->receive_from(asio::buffer(buffer_), sender_, 0, ec);
      if (ec) break;
      Datagram(n);
    }
    shared_->udp->close(ec);
    shared_->udp_drained = true;
    shared_->Settled();
  }

  // A datagram holds whole lines: its end ends its last line.
  void Datagram(size_t n) {
    const double now = shared_->clock();
    processor_.Feed(std::string_view(buffer_.data(), n), now);
    processor_.EndMessage(now);
    processor_.Flush();
  }

  std::shared_ptr<IngestServer::Shared> shared_;
  TransportMetrics* metrics_;
  LineProcessor processor_;
  std::vector<char> buffer_;
  asio::ip::udp::endpoint sender_;
};

// "tcp 127.0.0.1:7070": a listener in messages and in the "listening" log line.
std::string Describe(const char* transport, const HostPort& address) {
  return std::string(transport) + " " + FormatHostPort(address);
}

template <typename Endpoint>
HostPort BoundAddress(const Endpoint& local) {
  return {local.address().to_string(), local.port()};
}

}  // namespace

IngestServer::IngestServer(asio::io_context* io, const IngestConfig& config, Monitor* monitor,
                           IngestMetrics* metrics, std::function<double()> clock)
    : shared_(std::make_shared<Shared>()) {
  shared_->io = io;
  shared_->options = config;
  shared_->monitor = monitor;
  shared_->metrics = metrics;
  shared_->clock = std::move(clock);
}

IngestServer::~IngestServer() = default;

bool IngestServer::Start(std::string* error) {
  const IngestConfig& o = shared_->options;
  error_code ec;
  if (o.tcp) {
    const std::string what = Describe("tcp", *o.tcp);
    auto addr = asio::ip::make_address(o.tcp->host, ec);
    if (ec) {
      *error = what + ": " + ec.message();
      return false;
    }
    auto& a = shared_->tcp.emplace(*shared_->io);
    ec = Listen(&a, asio::ip::tcp::endpoint(addr, o.tcp->port), true);
    if (ec) {
      *error = what + ": " + ec.message();
      return false;
    }
    const auto local = a.local_endpoint();
    bound_.push_back(Describe("tcp", BoundAddress(local)));
    Accept<asio::ip::tcp>(shared_, &a, Transport::kTcp);
  }
  if (o.udp) {
    const std::string what = Describe("udp", *o.udp);
    auto addr = asio::ip::make_address(o.udp->host, ec);
    if (ec) {
      *error = what + ": " + ec.message();
      return false;
    }
    asio::ip::udp::endpoint ep(addr, o.udp->port);
    auto& s = shared_->udp.emplace(*shared_->io);
    s.open(ep.protocol(), ec);
    if (!ec) s.set_option(asio::socket_base::receive_buffer_size(8 << 20), ec);
    ec.clear();  // a smaller kernel limit is not fatal
    s.bind(ep, ec);
    if (ec) {
      *error = what + ": " + ec.message();
      return false;
    }
    const auto local = s.local_endpoint();
    bound_.push_back(Describe("udp", BoundAddress(local)));
    std::make_shared<UdpReceiver>(shared_)->Receive();
  }
  if (o.unix_path) {
    const std::string what = "unix " + *o.unix_path;
    std::remove(o.unix_path->c_str());  // a stale socket from an earlier run
    auto& a = shared_->unix_acceptor.emplace(*shared_->io);
    ec = Listen(&a, asio::local::stream_protocol::endpoint(*o.unix_path), false);
    if (ec) {
      *error = what + ": " + ec.message();
      return false;
    }
    bound_.push_back(what);
    Accept<asio::local::stream_protocol>(shared_, &a, Transport::kUnix);
  }
  return true;
}

void IngestServer::Drain(std::function<void()> done) {
  shared_->draining = true;
  shared_->drain_deadline = std::chrono::steady_clock::now() + kDrainBudget;
  shared_->on_drained = std::move(done);
  error_code ec;
  // Connections the kernel completed but driftd has not accepted yet may already hold data:
  // accept them now, so they are drained with the others.
  if (shared_->tcp) {
    AcceptPending<asio::ip::tcp>(shared_, &*shared_->tcp, Transport::kTcp);
    shared_->tcp->close(ec);
  }
  if (shared_->unix_acceptor) {
    AcceptPending<asio::local::stream_protocol>(shared_, &*shared_->unix_acceptor,
                                                Transport::kUnix);
    shared_->unix_acceptor->close(ec);
    std::remove(shared_->options.unix_path->c_str());
  }
  if (shared_->udp) {
    shared_->udp_drained = false;
    shared_->udp->cancel(ec);
  }
  for (SessionBase* session : shared_->sessions) session->Drain(shared_->drain_deadline);
  shared_->Settled();
}

}  // namespace driftd
