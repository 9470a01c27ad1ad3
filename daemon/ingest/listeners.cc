#include "daemon/ingest/listeners.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "daemon/accept_backoff.h"
#include "daemon/duration.h"

namespace driftd {

namespace asio = boost::asio;
using boost::system::error_code;

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void Drain(std::chrono::steady_clock::time_point deadline) = 0;
};

// One stream listener's accept state (ingest thread only).
struct AcceptLoop {
  AcceptLoop(asio::io_context* io, Transport t, size_t max, std::string listener)
      : transport(t), limit(max), name(std::move(listener)), retry(*io) {}
  Transport transport;
  size_t limit;      // open sessions of this transport allowed at once
  std::string name;  // "tcp 127.0.0.1:7070", for logs
  AcceptBackoff backoff;
  asio::steady_timer retry;
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
  std::optional<AcceptLoop> tcp_loop, unix_loop;
  std::pair<dev_t, ino_t> unix_inode{};  // the socket file this process bound
  std::set<SessionBase*> sessions;       // open stream sessions (ingest thread only)
  std::array<size_t, static_cast<size_t>(Transport::kCount)> open{};  // open sessions by transport
  // Every stream session on this thread reads into this one buffer and decodes with this one
  // scratch: a session waits for readability (async_wait) and then reads without blocking, so an
  // idle connection holds no read buffer at all (docs/architecture.md, "Memory bounds").
  std::vector<char> read_buffer;
  DecodeScratch scratch;
  LogRateLimiter accept_limiter{1};
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
// How many buffers one connection reads per wake-up before the others get a turn.
constexpr int kChunksPerTurn = 4;
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
                   shared_->options.max_line_bytes, &shared_->scratch),
        transport_(transport) {}

  void Start() {
    shared_->sessions.insert(this);
    ++shared_->open[static_cast<size_t>(transport_)];
    metrics_->connections->Increment();
    error_code ec;
    socket_.non_blocking(true, ec);
    ArmTimer();
    Wait();
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
    if (!closed_) Forget();
  }

 private:
  // The timer fires at the idle deadline (no data for idle_timeout_seconds) or, while a line is
  // unfinished, at that line's deadline (line_timeout_seconds after its first byte), if earlier.
  void ArmTimer() {
    const auto now = std::chrono::steady_clock::now();
    auto at = now + SecondsToDuration(shared_->options.idle_timeout_seconds);
    if (processor_.in_line()) at = std::min(at, line_deadline_);
    timer_.expires_at(at);
    timer_.async_wait([self = this->shared_from_this()](error_code ec) {
      if (ec || self->closed_ || self->draining_) return;
      if (self->processor_.in_line() && std::chrono::steady_clock::now() >= self->line_deadline_) {
        self->processor_.DropPartialLine();
        self->processor_.Error(Reason::kSlowClient,
                               "line not finished within line_timeout_seconds; closing");
      } else {
        self->processor_.Error(Reason::kIdleTimeout, "no data for idle_timeout_seconds; closing");
      }
      self->Finish();
    });
  }

  // Waits until the socket is readable; Drain() cancels the wait.
  void Wait() {
    socket_.async_wait(Protocol::socket::wait_read,
                       [self = this->shared_from_this()](error_code ec) {
                         if (self->closed_) return;
                         if (self->draining_) {
                           // Cancelled by Drain() or not: the kernel may hold what the peer sent.
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
                         self->ReadAvailable();
                       });
  }

  // Reads what the kernel holds, up to kChunksPerTurn buffers, then waits again.
  void ReadAvailable() {
    std::vector<char>& buffer = Buffer();
    for (int chunk = 0; chunk < kChunksPerTurn; ++chunk) {
      error_code ec;
      const size_t n = socket_.read_some(asio::buffer(buffer), ec);
      if (ec == asio::error::would_block) break;
      if (ec) {  // end of stream, or the peer is gone
        Finish();
        return;
      }
      Process(n);
      if (n < buffer.size()) break;  // the kernel had no more
    }
    ArmTimer();
    Wait();
  }

  std::vector<char>& Buffer() {
    if (shared_->read_buffer.empty()) shared_->read_buffer.resize(kReadBuffer);
    return shared_->read_buffer;
  }

  // One step of the drain: reads what the kernel holds for this connection without blocking, a
  // bounded number of chunks at a time so that every connection drains in turn, then waits for
  // more data, for kQuiet of silence (the peer has nothing in flight: close), or for the deadline
  // (the peer is still sending: cut it off).
  void DrainStep() {
    if (closed_) return;
    error_code ec;
    for (int chunk = 0; chunk < kDrainChunksPerTurn; ++chunk) {
      if (std::chrono::steady_clock::now() >= deadline_) {
        CutOff();
        return;
      }
      const size_t n = socket_.read_some(asio::buffer(Buffer()), ec);
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
    std::vector<char>& buffer = Buffer();
    for (size_t read = 0; read < kCutOffReadLimit;) {
      const size_t n = socket_.read_some(asio::buffer(buffer), ec);
      if (ec) break;
      lost += static_cast<uint64_t>(std::count(buffer.data(), buffer.data() + n, '\n'));
      read += n;
    }
    metrics_->Error(Reason::kShutdown, static_cast<double>(lost));
    Log(spdlog::level::warn, "connection cut off at the shutdown deadline",
        {{"transport", TransportName(transport_)}, {"lines_in_flight", lost}});
    Finish();
  }

  // Processes the first `n` bytes of the shared buffer; a line that begins here and does not end
  // sets the line deadline.
  void Process(size_t n) {
    const bool was_in_line = processor_.in_line();
    processor_.Feed(std::string_view(shared_->read_buffer.data(), n), shared_->clock());
    processor_.Flush();
    if (processor_.in_line() && (!was_in_line || line_ended_in_read(n))) {
      line_deadline_ = std::chrono::steady_clock::now() +
                       SecondsToDuration(shared_->options.line_timeout_seconds);
    }
  }

  // Whether a line ended within the last read's bytes (so the unfinished one is a new line).
  bool line_ended_in_read(size_t n) const {
    return std::memchr(shared_->read_buffer.data(), '\n', n) != nullptr;
  }

  void Forget() {
    --shared_->open[static_cast<size_t>(transport_)];
    metrics_->connections->Decrement();
    shared_->sessions.erase(this);
    shared_->Settled();
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
    Forget();
  }

  std::shared_ptr<IngestServer::Shared> shared_;
  typename Protocol::socket socket_;
  asio::steady_timer timer_;
  TransportMetrics* metrics_;
  LineProcessor processor_;
  Transport transport_;
  std::chrono::steady_clock::time_point line_deadline_;  // while processor_.in_line()
  bool closed_ = false;
  bool draining_ = false;
  uint64_t drain_wait_ = 0;  // the current drain wait; older timer/socket waits are stale
  std::chrono::steady_clock::time_point deadline_;
};

// Accepts on `acceptor` for as long as it is open. A transport at its connection limit refuses
// (too_many_connections); a failed accept (EMFILE, ...) is counted, logged and retried after the
// loop's back-off instead of at once.
template <class Protocol>
void Accept(std::shared_ptr<IngestServer::Shared> shared, typename Protocol::acceptor* acceptor,
            AcceptLoop* loop) {
  acceptor->async_accept([shared, acceptor, loop](error_code ec, typename Protocol::socket socket) {
    if (shared->draining || !acceptor->is_open()) return;
    TransportMetrics& metrics = shared->metrics->transport(loop->transport);
    if (ec) {
      metrics.Error(Reason::kAcceptError);
      const AcceptBackoff::Duration delay = loop->backoff.Failure();
      LogAcceptError(&shared->accept_limiter, loop->name, ec.message(), delay);
      loop->retry.expires_after(delay);
      loop->retry.async_wait([shared, acceptor, loop](error_code wait_ec) {
        if (wait_ec || shared->draining) return;
        Accept<Protocol>(shared, acceptor, loop);
      });
      return;
    }
    loop->backoff.Success();
    if (shared->open[static_cast<size_t>(loop->transport)] >= loop->limit) {
      metrics.Error(Reason::kTooManyConnections);
      uint64_t suppressed = 0;
      if (shared->log_limiter.Allow(&suppressed)) {
        Log(spdlog::level::warn, "connection refused: connection limit reached",
            {{"listener", loop->name},
             {"limit", static_cast<uint64_t>(loop->limit)},
             {"suppressed", suppressed}});
      }
      error_code ignored;
      socket.close(ignored);
    } else {
      std::make_shared<StreamSession<Protocol>>(shared, std::move(socket), loop->transport)
          ->Start();
    }
    Accept<Protocol>(shared, acceptor, loop);
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

// One UDP socket: every datagram holds whole lines. Datagrams are read kUdpBatch at a time
// (recvmmsg); each carries the socket's drop count (SO_RXQ_OVFL), whose growth is exported as
// reason="udp_dropped": datagrams the kernel discarded because the receive buffer was full.
class UdpReceiver : public std::enable_shared_from_this<UdpReceiver> {
 public:
  static constexpr size_t kUdpBatch = 8;
  static constexpr size_t kDatagramBytes = 65536;  // more than any UDP payload (65,507 bytes)

  explicit UdpReceiver(std::shared_ptr<IngestServer::Shared> shared)
      : shared_(std::move(shared)),
        metrics_(&shared_->metrics->transport(Transport::kUdp)),
        processor_(shared_->monitor, metrics_, shared_->metrics->values(), &shared_->log_limiter,
                   shared_->options.max_line_bytes, &shared_->scratch),
        buffer_(kUdpBatch * kDatagramBytes) {
    for (size_t i = 0; i < kUdpBatch; ++i) {
      iov_[i] = {buffer_.data() + i * kDatagramBytes, kDatagramBytes};
    }
  }

  void Receive() {
    shared_->udp->async_wait(
        asio::ip::udp::socket::wait_read, [self = shared_from_this()](error_code ec) {
          if (self->shared_->draining) {
            self->DrainNow();
            return;
          }
          if (ec == asio::error::operation_aborted) return;
          for (int turn = 0; turn < 4 && self->ReceiveBatch() == kUdpBatch; ++turn) {
          }
          self->Receive();
        });
  }

 private:
  // Reads and processes up to kUdpBatch queued datagrams without blocking; returns how many.
  size_t ReceiveBatch() {
    for (size_t i = 0; i < kUdpBatch; ++i) {
      msgs_[i] = {};
      msgs_[i].msg_hdr.msg_iov = &iov_[i];
      msgs_[i].msg_hdr.msg_iovlen = 1;
      msgs_[i].msg_hdr.msg_control = control_[i].data();
      msgs_[i].msg_hdr.msg_controllen = control_[i].size();
    }
    const int n =
        recvmmsg(shared_->udp->native_handle(), msgs_.data(), kUdpBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) return 0;
    const double now = shared_->clock();
    for (int i = 0; i < n; ++i) {
      CountDrops(msgs_[i].msg_hdr);
      processor_.Feed(
          std::string_view(static_cast<const char*>(iov_[i].iov_base), msgs_[i].msg_len), now);
      processor_.EndMessage(now);
    }
    processor_.Flush();
    return static_cast<size_t>(n);
  }

  // The socket's drop count as of this datagram; the increase since the last one is counted.
  void CountDrops(msghdr& hdr) {
    for (cmsghdr* c = CMSG_FIRSTHDR(&hdr); c != nullptr; c = CMSG_NXTHDR(&hdr, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SO_RXQ_OVFL) continue;
      uint32_t drops = 0;
      std::memcpy(&drops, CMSG_DATA(c), sizeof drops);
      const uint32_t added = drops - drops_;  // unsigned: the kernel's counter wraps
      drops_ = drops;
      if (added > 0) metrics_->Error(Reason::kUdpDropped, added);
    }
  }

  // Processes the datagrams already queued on the socket (until none is left or the drain
  // deadline passes, however fast senders go on sending), then closes it.
  void DrainNow() {
    while (std::chrono::steady_clock::now() < shared_->drain_deadline && ReceiveBatch() > 0) {
    }
    error_code ec;
    shared_->udp->close(ec);
    shared_->udp_drained = true;
    shared_->Settled();
  }

  std::shared_ptr<IngestServer::Shared> shared_;
  TransportMetrics* metrics_;
  LineProcessor processor_;
  std::vector<char> buffer_;
  std::array<iovec, kUdpBatch> iov_{};
  std::array<mmsghdr, kUdpBatch> msgs_{};
  std::array<std::array<char, CMSG_SPACE(sizeof(uint32_t))>, kUdpBatch> control_{};
  uint32_t drops_ = 0;  // the socket's drop count as of the last datagram read
};

// Asks for an 8 MiB UDP receive buffer and SO_RXQ_OVFL, and logs the size the kernel granted
// (net.core.rmem_max caps the request silently; Linux reports twice the usable size).
void ConfigureUdpSocket(asio::ip::udp::socket* s, const std::string& listener) {
  constexpr int kRequested = 8 << 20;
  error_code ec;
  s->set_option(asio::socket_base::receive_buffer_size(kRequested), ec);
  asio::socket_base::receive_buffer_size granted;
  s->get_option(granted, ec);
  const int on = 1;
  const bool drops = setsockopt(s->native_handle(), SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on) == 0;
  const auto effective = static_cast<uint64_t>(ec ? 0 : granted.value());
  const bool capped = effective / 2 < static_cast<uint64_t>(kRequested);
  Log(capped ? spdlog::level::warn : spdlog::level::info,
      capped ? "udp receive buffer smaller than requested (raise net.core.rmem_max)"
             : "udp receive buffer",
      {{"listener", listener},
       {"requested_bytes", static_cast<uint64_t>(kRequested)},
       {"effective_bytes", effective},
       {"drops_counted", drops}});
}

// Makes room for the unix socket at `path`: nothing there is fine; a socket nobody accepts on
// (ECONNREFUSED: left by an earlier run) is removed. Anything else is left alone and reported.
bool ClearStaleUnixSocket(const std::string& path, std::string* error) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return true;
    *error = std::strerror(errno);
    return false;
  }
  if (!S_ISSOCK(st.st_mode)) {
    *error = "a file that is not a socket exists at this path; not removing it";
    return false;
  }
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::strerror(errno);
    return false;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), std::min(path.size(), sizeof addr.sun_path - 1));
  const int rc = connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  const int connect_errno = errno;
  close(fd);
  if (rc == 0) {
    *error = "another process is listening on this socket";
    return false;
  }
  if (connect_errno != ECONNREFUSED) {
    *error =
        std::string("cannot tell whether the socket is in use: ") + std::strerror(connect_errno);
    return false;
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    *error = std::string("cannot remove the stale socket: ") + std::strerror(errno);
    return false;
  }
  return true;
}

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
    auto& loop =
        shared_->tcp_loop.emplace(shared_->io, Transport::kTcp, o.max_connections, bound_.back());
    Accept<asio::ip::tcp>(shared_, &a, &loop);
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
    if (!ec) s.bind(ep, ec);
    if (ec) {
      *error = what + ": " + ec.message();
      return false;
    }
    const auto local = s.local_endpoint();
    bound_.push_back(Describe("udp", BoundAddress(local)));
    ConfigureUdpSocket(&s, bound_.back());
    std::make_shared<UdpReceiver>(shared_)->Receive();
  }
  if (o.unix_path) {
    const std::string what = "unix " + *o.unix_path;
    std::string why;
    if (!ClearStaleUnixSocket(*o.unix_path, &why)) {
      *error = what + ": " + why;
      return false;
    }
    auto& a = shared_->unix_acceptor.emplace(*shared_->io);
    // Bound, given its mode, and only then listening: no connection is accepted under the umask.
    a.open(asio::local::stream_protocol(), ec);
    if (!ec) a.bind(asio::local::stream_protocol::endpoint(*o.unix_path), ec);
    if (!ec && chmod(o.unix_path->c_str(), static_cast<mode_t>(o.unix_mode)) != 0) {
      ec = error_code(errno, boost::system::system_category());
    }
    struct stat st {};
    if (!ec && lstat(o.unix_path->c_str(), &st) == 0) shared_->unix_inode = {st.st_dev, st.st_ino};
    if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      *error = what + ": " + ec.message();
      return false;
    }
    bound_.push_back(what);
    auto& loop = shared_->unix_loop.emplace(shared_->io, Transport::kUnix, o.max_unix_connections,
                                            bound_.back());
    Accept<asio::local::stream_protocol>(shared_, &a, &loop);
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
    // Only the socket this process bound: not a file someone has put there since.
    struct stat st {};
    const std::string& path = *shared_->options.unix_path;
    if (lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) &&
        std::pair(st.st_dev, st.st_ino) == shared_->unix_inode) {
      unlink(path.c_str());
    }
  }
  if (shared_->tcp_loop) shared_->tcp_loop->retry.cancel();
  if (shared_->unix_loop) shared_->unix_loop->retry.cancel();
  if (shared_->udp) {
    shared_->udp_drained = false;
    shared_->udp->cancel(ec);
  }
  for (SessionBase* session : shared_->sessions) session->Drain(shared_->drain_deadline);
  shared_->Settled();
}

}  // namespace driftd
