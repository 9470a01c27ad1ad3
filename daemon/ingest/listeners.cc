#include "daemon/ingest/listeners.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
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

// One stream listener: its acceptor and accept state (ingest thread only). Shared with the accept
// handlers, so that a listener a reload replaced lives until its last handler has run.
template <class Protocol>
struct StreamListener {
  StreamListener(asio::io_context* io, Transport t, size_t max)
      : acceptor(*io), transport(t), limit(max), retry(*io) {}
  typename Protocol::acceptor acceptor;
  Transport transport;
  size_t limit;      // open sessions of this transport allowed at once
  std::string name;  // "tcp 127.0.0.1:7070", for logs
  AcceptBackoff backoff;
  asio::steady_timer retry;
  // Unix only: the socket file this listener bound, removed when it closes (only if it is still
  // that file).
  std::string path;
  std::pair<dev_t, ino_t> inode{};
};
using TcpListener = StreamListener<asio::ip::tcp>;
using UnixListener = StreamListener<asio::local::stream_protocol>;

namespace {
class UdpReceiver;
}  // namespace

// Open stream sessions by transport, over every ingest thread (what the connection limits count).
struct OpenSessions {
  std::array<std::atomic<size_t>, static_cast<size_t>(Transport::kCount)> by_transport{};
  std::atomic<size_t>& operator[](size_t t) { return by_transport[t]; }
};

// One ingest thread's state (a lane). Lane 0 also owns the listeners and hands accepted
// connections to the lanes in turn; everything else here belongs to the lane's own thread.
struct IngestServer::Shared {
  asio::io_context* io;
  IngestConfig options;
  Monitor* monitor;
  IngestMetrics* metrics;
  std::function<double()> clock;
  LogRateLimiter log_limiter{5};
  std::shared_ptr<TcpListener> tcp;
  std::shared_ptr<UnixListener> unix_listener;
  std::shared_ptr<asio::ip::udp::socket> udp;  // shared with its UdpReceiver
  std::shared_ptr<UdpReceiver> udp_receiver;
  std::set<SessionBase*> sessions;  // this lane's open stream sessions
  std::shared_ptr<OpenSessions> open = std::make_shared<OpenSessions>();  // shared by the lanes
  std::vector<std::shared_ptr<Shared>> others;  // lane 0: lanes 1 .. n - 1
  size_t next_lane = 0;                         // lane 0: the lane the next connection goes to
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
    shared_->sessions.insert(this);  // counted in `open` by Serve()
    metrics_->connections->Increment();
    error_code ec;
    socket_.non_blocking(true, ec);
    idle_deadline_ = IdleDeadlineFromNow();
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
  // The timer fires at the idle deadline (no record for idle_timeout_seconds: blank lines,
  // comments and lines that do not decode do not hold a slot, so a drip of newlines or garbage
  // cannot keep one forever) or, while a line is unfinished, at that line's deadline
  // (line_timeout_seconds after its first byte): a record still arriving at the idle deadline
  // may finish, but no later than line_timeout_seconds past it.
  void ArmTimer() {
    if (processor_.decoded() != decoded_at_idle_deadline_) {
      decoded_at_idle_deadline_ = processor_.decoded();
      idle_deadline_ = IdleDeadlineFromNow();
    }
    timer_.expires_at(processor_.in_line() ? std::min(line_deadline_, IdleLimit()) : IdleLimit());
    timer_.async_wait([self = this->shared_from_this()](error_code ec) {
      if (ec || self->closed_ || self->draining_) return;
      const auto now = std::chrono::steady_clock::now();
      if (self->processor_.in_line() && now >= self->line_deadline_) {
        self->processor_.DropPartialLine();
        self->processor_.Error(Reason::kSlowClient,
                               "line not finished within line_timeout_seconds; closing");
      } else if (now >= self->IdleLimit()) {
        self->processor_.DropPartialLine();
        self->processor_.Error(Reason::kIdleTimeout, "no record for idle_timeout_seconds; closing");
      } else {
        return;  // expired before a read moved the deadlines: ArmTimer() set the new wait
      }
      self->Finish();
    });
  }
  std::chrono::steady_clock::time_point IdleDeadlineFromNow() const {
    return std::chrono::steady_clock::now() +
           SecondsToDuration(shared_->options.idle_timeout_seconds);
  }
  // When the connection is idle: the idle deadline, or line_timeout_seconds past it for a line
  // then in progress.
  std::chrono::steady_clock::time_point IdleLimit() const {
    if (!processor_.in_line()) return idle_deadline_;
    return idle_deadline_ + SecondsToDuration(shared_->options.line_timeout_seconds);
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
    --(*shared_->open)[static_cast<size_t>(transport_)];
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
  std::chrono::steady_clock::time_point idle_deadline_;  // idle_timeout after the last record
  uint64_t decoded_at_idle_deadline_ = 0;                // processor_.decoded() when it was set
  bool closed_ = false;
  bool draining_ = false;
  uint64_t drain_wait_ = 0;  // the current drain wait; older timer/socket waits are stale
  std::chrono::steady_clock::time_point deadline_;
};

// Serves an accepted connection on the next lane in turn (lane 0 is `shared`, on whose thread
// this runs): counted open at once, so that the limit holds while it moves to its lane.
template <class Protocol>
void Serve(const std::shared_ptr<IngestServer::Shared>& shared, typename Protocol::socket socket,
           Transport transport) {
  std::atomic<size_t>& open = (*shared->open)[static_cast<size_t>(transport)];
  ++open;
  const size_t k = shared->next_lane++ % (shared->others.size() + 1);
  if (k == 0) {
    std::make_shared<StreamSession<Protocol>>(shared, std::move(socket), transport)->Start();
    return;
  }
  std::shared_ptr<IngestServer::Shared> lane = shared->others[k - 1];
  error_code ec;
  const typename Protocol::endpoint local = socket.local_endpoint(ec);
  const auto fd = ec ? -1 : socket.release(ec);
  if (ec) {  // the peer is gone already
    --open;
    return;
  }
  asio::post(*lane->io, [lane, protocol = local.protocol(), fd, transport] {
    typename Protocol::socket moved(*lane->io);
    error_code assign_ec;
    moved.assign(protocol, fd, assign_ec);
    if (assign_ec) {
      ::close(fd);
      --(*lane->open)[static_cast<size_t>(transport)];
      return;
    }
    std::make_shared<StreamSession<Protocol>>(lane, std::move(moved), transport)->Start();
  });
}

// Accepts on `acceptor` for as long as it is open. A transport at its connection limit refuses
// (too_many_connections); a failed accept (EMFILE, ...) is counted, logged and retried after the
// loop's back-off instead of at once.
template <class Protocol>
void Accept(std::shared_ptr<IngestServer::Shared> shared,
            std::shared_ptr<StreamListener<Protocol>> loop) {
  loop->acceptor.async_accept([shared, loop](error_code ec, typename Protocol::socket socket) {
    if (shared->draining) return;
    if (!loop->acceptor.is_open()) {
      // Closed by a reload after this connection was accepted: it is served, not dropped.
      if (!ec) {
        Serve<Protocol>(shared, std::move(socket), loop->transport);
      }
      return;
    }
    TransportMetrics& metrics = shared->metrics->transport(loop->transport);
    if (ec) {
      metrics.Error(Reason::kAcceptError);
      const AcceptBackoff::Duration delay = loop->backoff.Failure();
      LogAcceptError(&shared->accept_limiter, loop->name, ec.message(), delay);
      loop->retry.expires_after(delay);
      loop->retry.async_wait([shared, loop](error_code wait_ec) {
        if (wait_ec || shared->draining || !loop->acceptor.is_open()) return;
        Accept<Protocol>(shared, loop);
      });
      return;
    }
    loop->backoff.Success();
    if ((*shared->open)[static_cast<size_t>(loop->transport)] >= loop->limit) {
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
      Serve<Protocol>(shared, std::move(socket), loop->transport);
    }
    Accept<Protocol>(shared, loop);
  });
}

// Accepts, without waiting, every connection already queued on `acceptor` (at shutdown).
template <class Protocol>
void AcceptPending(const std::shared_ptr<IngestServer::Shared>& shared,
                   typename Protocol::acceptor* acceptor, Transport transport) {
  AcceptQueued(acceptor, shared->io, [&](typename Protocol::socket socket) {
    Serve<Protocol>(shared, std::move(socket), transport);
  });
}

// One UDP socket: every datagram holds whole lines. Datagrams are read kUdpBatch at a time
// (recvmmsg); each carries the socket's drop count (SO_RXQ_OVFL), whose growth is exported as
// reason="udp_dropped": datagrams the kernel discarded because the receive buffer was full.
class UdpReceiver : public std::enable_shared_from_this<UdpReceiver> {
 public:
  static constexpr size_t kUdpBatch = 8;
  static constexpr size_t kDatagramBytes = 65536;  // more than any UDP payload (65,507 bytes)

  UdpReceiver(std::shared_ptr<IngestServer::Shared> shared,
              std::shared_ptr<asio::ip::udp::socket> socket)
      : shared_(std::move(shared)),
        socket_(std::move(socket)),
        metrics_(&shared_->metrics->transport(Transport::kUdp)),
        processor_(shared_->monitor, metrics_, shared_->metrics->values(), &shared_->log_limiter,
                   shared_->options.max_line_bytes, &shared_->scratch),
        buffer_(kUdpBatch * kDatagramBytes) {
    for (size_t i = 0; i < kUdpBatch; ++i) {
      iov_[i] = {buffer_.data() + i * kDatagramBytes, kDatagramBytes};
    }
  }

  // Processes the datagrams already queued (at most a drain's worth), then closes the socket.
  void ReadQueuedAndClose() {
    const auto deadline = std::chrono::steady_clock::now() + kDrainBudget;
    while (std::chrono::steady_clock::now() < deadline && ReceiveBatch() > 0) {
    }
    error_code ec;
    socket_->close(ec);
  }

  void Receive() {
    socket_->async_wait(
        asio::ip::udp::socket::wait_read, [self = shared_from_this()](error_code ec) {
          // Closed: a reload replaced this socket (what it held was read before it closed).
          if (!self->socket_->is_open()) return;
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
        recvmmsg(socket_->native_handle(), msgs_.data(), kUdpBatch, MSG_DONTWAIT, nullptr);
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
    socket_->close(ec);
    shared_->udp_drained = true;
    if (shared_->udp_receiver.get() == this) shared_->udp_receiver.reset();  // `self` holds it
    shared_->Settled();
  }

  std::shared_ptr<IngestServer::Shared> shared_;
  std::shared_ptr<asio::ip::udp::socket> socket_;
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

std::string UdpName(const asio::ip::udp::socket& s) {
  error_code ec;
  const auto local = s.local_endpoint(ec);
  return ec ? std::string("udp") : Describe("udp", BoundAddress(local));
}

// Binds and listens (without accepting yet), or null with *error naming the listener.
std::shared_ptr<TcpListener> BindTcp(const std::shared_ptr<IngestServer::Shared>& shared,
                                     const HostPort& where, std::string* error) {
  const std::string what = Describe("tcp", where);
  error_code ec;
  auto addr = asio::ip::make_address(where.host, ec);
  if (ec) {
    *error = what + ": " + ec.message();
    return nullptr;
  }
  auto l =
      std::make_shared<TcpListener>(shared->io, Transport::kTcp, shared->options.max_connections);
  ec = Listen(&l->acceptor, asio::ip::tcp::endpoint(addr, where.port), true);
  if (ec) {
    *error = what + ": " + ec.message();
    return nullptr;
  }
  l->name = Describe("tcp", BoundAddress(l->acceptor.local_endpoint()));
  return l;
}

std::shared_ptr<asio::ip::udp::socket> BindUdp(const std::shared_ptr<IngestServer::Shared>& shared,
                                               const HostPort& where, std::string* error) {
  const std::string what = Describe("udp", where);
  error_code ec;
  auto addr = asio::ip::make_address(where.host, ec);
  if (ec) {
    *error = what + ": " + ec.message();
    return nullptr;
  }
  asio::ip::udp::endpoint ep(addr, where.port);
  auto s = std::make_shared<asio::ip::udp::socket>(*shared->io);
  s->open(ep.protocol(), ec);
  if (!ec) s->bind(ep, ec);
  if (ec) {
    *error = what + ": " + ec.message();
    return nullptr;
  }
  return s;
}

std::shared_ptr<UnixListener> BindUnix(const std::shared_ptr<IngestServer::Shared>& shared,
                                       const std::string& path, std::string* error) {
  const std::string what = "unix " + path;
  std::string why;
  if (!ClearStaleUnixSocket(path, &why)) {
    *error = what + ": " + why;
    return nullptr;
  }
  auto l = std::make_shared<UnixListener>(shared->io, Transport::kUnix,
                                          shared->options.max_unix_connections);
  error_code ec;
  // Bound, given its mode, and only then listening: no connection is accepted under the umask.
  l->acceptor.open(asio::local::stream_protocol(), ec);
  if (!ec) l->acceptor.bind(asio::local::stream_protocol::endpoint(path), ec);
  if (!ec && chmod(path.c_str(), static_cast<mode_t>(shared->options.unix_mode)) != 0) {
    ec = error_code(errno, boost::system::system_category());
  }
  struct stat st {};
  if (!ec && lstat(path.c_str(), &st) == 0) l->inode = {st.st_dev, st.st_ino};
  if (!ec) l->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    *error = what + ": " + ec.message();
    return nullptr;
  }
  l->path = path;
  l->name = what;
  return l;
}

void StartTcp(const std::shared_ptr<IngestServer::Shared>& shared,
              const std::shared_ptr<TcpListener>& l, std::vector<std::string>* bound) {
  if (bound != nullptr) bound->push_back(l->name);
  Accept<asio::ip::tcp>(shared, l);
}

void StartUnix(const std::shared_ptr<IngestServer::Shared>& shared,
               const std::shared_ptr<UnixListener>& l, std::vector<std::string>* bound) {
  if (bound != nullptr) bound->push_back(l->name);
  Accept<asio::local::stream_protocol>(shared, l);
}

void StartUdp(const std::shared_ptr<IngestServer::Shared>& shared,
              const std::shared_ptr<asio::ip::udp::socket>& s, std::vector<std::string>* bound) {
  const std::string name = UdpName(*s);
  if (bound != nullptr) bound->push_back(name);
  ConfigureUdpSocket(s.get(), name);
  shared->udp_receiver = std::make_shared<UdpReceiver>(shared, s);
  shared->udp_receiver->Receive();
}

void CloseTcp(TcpListener* l) {
  error_code ec;
  l->acceptor.close(ec);
  l->retry.cancel();
}

void CloseUnix(UnixListener* l) {
  error_code ec;
  l->acceptor.close(ec);
  l->retry.cancel();
  // Only the socket this listener bound: not a file someone has put there since.
  struct stat st {};
  if (lstat(l->path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) &&
      std::pair(st.st_dev, st.st_ino) == l->inode) {
    unlink(l->path.c_str());
  }
}

// Reads what the UDP socket holds, then closes it: a reload that moves the listener loses none
// of the datagrams already received.
void RetireUdp(IngestServer::Shared* shared) {
  if (shared->udp_receiver) shared->udp_receiver->ReadQueuedAndClose();
  shared->udp_receiver.reset();
}

}  // namespace

IngestServer::IngestServer(asio::io_context* io, const IngestConfig& config, Monitor* monitor,
                           IngestMetrics* metrics, std::function<double()> clock,
                           std::vector<asio::io_context*> lanes)
    : shared_(std::make_shared<Shared>()) {
  shared_->io = io;
  shared_->options = config;
  shared_->monitor = monitor;
  shared_->metrics = metrics;
  shared_->clock = std::move(clock);
  shared_->scratch.shard = 0;
  for (size_t k = 0; k < lanes.size(); ++k) {
    auto lane = std::make_shared<Shared>();
    lane->io = lanes[k];
    lane->options = config;
    lane->monitor = monitor;
    lane->metrics = metrics;
    lane->clock = shared_->clock;
    lane->open = shared_->open;
    lane->scratch.shard = static_cast<int>(k + 1);
    shared_->others.push_back(std::move(lane));
  }
}

// The UDP receiver and the shared state hold each other: break the cycle.
IngestServer::~IngestServer() { shared_->udp_receiver.reset(); }

bool IngestServer::Start(std::string* error) {
  const IngestConfig& o = shared_->options;
  if (o.tcp && !(shared_->tcp = BindTcp(shared_, *o.tcp, error))) return false;
  if (o.udp && !(shared_->udp = BindUdp(shared_, *o.udp, error))) return false;
  if (o.unix_path && !(shared_->unix_listener = BindUnix(shared_, *o.unix_path, error))) {
    return false;
  }
  bound_.clear();
  if (shared_->tcp) StartTcp(shared_, shared_->tcp, &bound_);
  if (shared_->udp) StartUdp(shared_, shared_->udp, &bound_);
  if (shared_->unix_listener) StartUnix(shared_, shared_->unix_listener, &bound_);
  return true;
}

bool IngestServer::Reconfigure(const IngestConfig& next, std::vector<std::string>* started,
                               std::vector<std::string>* stopped, std::string* error) {
  const IngestConfig& o = shared_->options;
  const bool tcp_changed = !(next.tcp == o.tcp);
  const bool udp_changed = !(next.udp == o.udp);
  const bool unix_changed = next.unix_path != o.unix_path;
  // Everything new is bound before anything old is closed, so a listener that cannot bind
  // leaves every listener as it was. (Moving a listener to another host on the same port
  // conflicts with the old socket: that fails here, and needs a restart.)
  std::shared_ptr<TcpListener> tcp;
  std::shared_ptr<asio::ip::udp::socket> udp;
  std::shared_ptr<UnixListener> unix_listener;
  const bool ok = (!tcp_changed || !next.tcp || (tcp = BindTcp(shared_, *next.tcp, error))) &&
                  (!udp_changed || !next.udp || (udp = BindUdp(shared_, *next.udp, error))) &&
                  (!unix_changed || !next.unix_path ||
                   (unix_listener = BindUnix(shared_, *next.unix_path, error)));
  if (!ok) {
    if (tcp) CloseTcp(tcp.get());
    if (udp) {
      error_code ec;
      udp->close(ec);
    }
    if (unix_listener) CloseUnix(unix_listener.get());
    return false;
  }
  // Commit. Connections already open stay open on their sessions, whatever their listener.
  if (tcp_changed) {
    if (shared_->tcp) {
      stopped->push_back(shared_->tcp->name);
      // Connections the kernel completed on the old listener may already hold lines.
      AcceptPending<asio::ip::tcp>(shared_, &shared_->tcp->acceptor, Transport::kTcp);
      CloseTcp(shared_->tcp.get());
    }
    shared_->tcp = tcp;
    if (tcp) StartTcp(shared_, tcp, started);
  }
  if (udp_changed) {
    if (shared_->udp) {
      stopped->push_back(UdpName(*shared_->udp));
      RetireUdp(shared_.get());
    }
    shared_->udp = udp;
    if (udp) StartUdp(shared_, udp, started);
  }
  if (unix_changed) {
    if (shared_->unix_listener) {
      stopped->push_back(shared_->unix_listener->name);
      AcceptPending<asio::local::stream_protocol>(shared_, &shared_->unix_listener->acceptor,
                                                  Transport::kUnix);
      CloseUnix(shared_->unix_listener.get());
    }
    shared_->unix_listener = unix_listener;
    if (unix_listener) StartUnix(shared_, unix_listener, started);
  } else if (shared_->unix_listener && next.unix_mode != o.unix_mode) {
    chmod(shared_->unix_listener->path.c_str(), static_cast<mode_t>(next.unix_mode));
  }
  // The limits and timeouts apply from now on (line length: to connections opened from now).
  if (shared_->tcp) shared_->tcp->limit = next.max_connections;
  if (shared_->unix_listener) shared_->unix_listener->limit = next.max_unix_connections;
  shared_->options = next;
  for (const std::shared_ptr<Shared>& lane : shared_->others) {
    asio::post(*lane->io, [lane, next] { lane->options = next; });
  }
  bound_.clear();
  if (shared_->tcp) bound_.push_back(shared_->tcp->name);
  if (shared_->udp) bound_.push_back(UdpName(*shared_->udp));
  if (shared_->unix_listener) bound_.push_back(shared_->unix_listener->name);
  return true;
}

void IngestServer::Drain(std::function<void()> done) {
  shared_->draining = true;
  shared_->drain_deadline = std::chrono::steady_clock::now() + kDrainBudget;
  // `done` once every lane has drained (counted on this thread).
  auto left = std::make_shared<size_t>(shared_->others.size() + 1);
  auto lane_done = std::make_shared<std::function<void()>>([left, done = std::move(done)] {
    if (--*left == 0) done();
  });
  shared_->on_drained = [lane_done] { (*lane_done)(); };
  error_code ec;
  // Connections the kernel completed but driftd has not accepted yet may already hold data:
  // accept them now, so they are drained with the others.
  if (shared_->tcp) {
    AcceptPending<asio::ip::tcp>(shared_, &shared_->tcp->acceptor, Transport::kTcp);
    CloseTcp(shared_->tcp.get());
  }
  if (shared_->unix_listener) {
    AcceptPending<asio::local::stream_protocol>(shared_, &shared_->unix_listener->acceptor,
                                                Transport::kUnix);
    CloseUnix(shared_->unix_listener.get());
  }
  if (shared_->udp) {
    shared_->udp_drained = false;
    shared_->udp->cancel(ec);
  }
  // After the connections just accepted were handed to their lanes: each lane starts them first.
  for (const std::shared_ptr<Shared>& lane : shared_->others) {
    asio::post(*lane->io, [lane, lane0 = shared_, lane_done, deadline = shared_->drain_deadline] {
      lane->draining = true;
      lane->drain_deadline = deadline;
      lane->on_drained = [lane0, lane_done] {
        asio::post(*lane0->io, [lane_done] { (*lane_done)(); });
      };
      for (SessionBase* session : lane->sessions) session->Drain(deadline);
      lane->Settled();
    });
  }
  for (SessionBase* session : shared_->sessions) session->Drain(shared_->drain_deadline);
  shared_->Settled();
}

}  // namespace driftd
