/*
 * The load generator of `bun run bench` (scripts/bench.ts compiles it with
 * gcc when gcc is there). One thread, epoll, 127.0.0.1 only; every loop is
 * bounded in time. Prints one line of key=value.
 *
 *   load echo   --port P --conns N --size S --seconds T [--stream --window W] [--text] [--warmup 0.5]
 *   load fanout --port P --receivers R --lines M [--rate L] [--hello '/nick u{i}']
 *               [--ports P1,P2,...] [--settle MS]
 *   load idle   --port P --conns N [--hello LINE] [--hold S]
 *   common: [--server-pid PID[,PID...]] (server CPU over the measured window:
 *           the sum over every process named, e.g. each server of a cluster and Redis)
 *
 * echo: every byte that comes back is compared with the byte sent at that
 * offset of a pseudo-random stream (all 256 byte values: binary is the worst
 * case for a server that prints what it receives). fanout: R receivers and a
 * sender; every `seq=` line at every receiver is counted (lost, duplicated,
 * reordered) and timed from the sender's write to the read that brought
 * it, and the CPU the rest of the machine used meanwhile is reported
 * (other_cpu_pct). With --ports the receivers are spread round-robin over
 * several servers (receiver i on P(i mod n)) that share one room, the sender
 * on the first; with --settle the first line is sent once no other line (a
 * rename, a join, a relayed hello) has reached any receiver for MS
 * milliseconds (at most 10 s): the room's n² welcome traffic is then over and
 * not measured with the lines. idle: N connections, each set up once the
 * server has sent it a first byte (an echo of the hello, or a room's
 * greeting); held open, reading, for --hold seconds.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PATTERN_BYTES (1u << 20)
#define MAX_IO 65536
#define FINE_US 10000             /* latency histogram: 1 us buckets up to 10 ms, */
#define COARSE_US 100             /* then 100 us buckets up to 10 s */
#define HIST_BUCKETS (FINE_US + 10000000 / COARSE_US)
#define CONNECT_BATCH 64          /* connects issued at once, then waited for: listen backlogs are small */
#define CONNECT_PAUSE_US 2000     /* between batches: time for the server to accept the last one */
#define DRAIN_SECONDS 3.0
#define SYNC_SECONDS 10.0        /* plus 20 ms per receiver: a relay passes every hello to everyone (n^2 lines) */
#define SYNC_EVERY_MAX 1.0        /* sync lines go out every 20 ms at first, then less often, up to this */
#define IDLE_AFTER_SEND 3.0       /* fanout: give up this long after the last delivery */
#define MAX_SECONDS 120.0
#define LINE_BYTES 64
#define LINE_MAX 4096
#define MAX_PORTS 16
#define MAX_PIDS 32

static int port, ports[MAX_PORTS], nports, conns = 1, size = 64, stream_mode, text_mode, window = 16384, receivers = 100, lines = 1000, rate;
static double seconds = 3, warmup = 0.5, hold = 2, settle_ms;
static const char *hello = "";
static int server_pids[MAX_PIDS], npids;
static int ep;
static unsigned char *pattern;
static uint32_t hist[HIST_BUCKETS + 1];
static uint64_t hist_n;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) {
  fprintf(stderr, "load: %s: %s\n", what, strerror(errno));
  exit(2);
}

static void record_us(double us) {
  uint64_t u = us < 0 ? 0 : (uint64_t)us;
  uint64_t b = u < FINE_US ? u : FINE_US + (u - FINE_US) / COARSE_US;
  hist[b > HIST_BUCKETS ? HIST_BUCKETS : b]++;
  hist_n++;
}

static double percentile(double p) {
  if (hist_n == 0) return -1;
  uint64_t want = (uint64_t)(p * hist_n), seen = 0;
  for (int i = 0; i <= HIST_BUCKETS; i++) {
    seen += hist[i];
    if (seen > want) return i < FINE_US ? i : FINE_US + (double)(i - FINE_US) * COARSE_US;
  }
  return -1;
}

/* CPU time of this process, in seconds. */
static double self_cpu(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Parses `A,B,C` into up to `max` positive numbers; returns how many, or -1 on a bad list. */
static int parse_list(const char *text, int *out, int max) {
  int n = 0;
  for (const char *p = text; *p;) {
    char *end;
    long v = strtol(p, &end, 10);
    if (end == p || v <= 0 || v > 0x7fffffff || n == max || (*end && *end != ',')) return -1;
    out[n++] = (int)v;
    p = *end ? end + 1 : end;
  }
  return n;
}

/* On-CPU time of every thread of one process, in seconds (schedstat: nanoseconds, not 10 ms ticks). */
static double process_cpu(int server_pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task", server_pid);
  DIR *dir = opendir(path);
  if (!dir) return 0;
  double total = 0;
  struct dirent *e;
  while ((e = readdir(dir))) {
    if (e->d_name[0] == '.') continue;
    char file[320];
    snprintf(file, sizeof file, "/proc/%d/task/%s/schedstat", server_pid, e->d_name);
    FILE *f = fopen(file, "r");
    if (!f) continue;
    unsigned long long ns = 0;
    if (fscanf(f, "%llu", &ns) == 1) total += ns / 1e9;
    fclose(f);
  }
  closedir(dir);
  return total;
}

/* On-CPU time of every server process named by --server-pid, together. */
static double server_cpu(void) {
  double total = 0;
  for (int i = 0; i < npids; i++) total += process_cpu(server_pids[i]);
  return total;
}

/* Busy CPU time of the whole machine so far, in seconds (/proc/stat: every CPU, idle and iowait left out). */
static double machine_busy(void) {
  FILE *f = fopen("/proc/stat", "r");
  if (!f) return 0;
  unsigned long long v[8] = {0};
  int got = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
  fclose(f);
  if (got < 8) return 0;
  unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
  return (double)busy / (double)sysconf(_SC_CLK_TCK);
}

static void raise_nofile(int need) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) die("getrlimit");
  if (rl.rlim_cur >= (rlim_t)need) return;
  rl.rlim_cur = rl.rlim_max < (rlim_t)need ? rl.rlim_max : (rlim_t)need;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < (rlim_t)need) {
    fprintf(stderr, "load: need %d open files, the limit is %lu (ulimit -n)\n", need, (unsigned long)rl.rlim_cur);
    exit(2);
  }
}

/*
 * Non-blocking connects to 127.0.0.1 in batches of CONNECT_BATCH: a batch is
 * opened, then waited for (every handshake done or failed), then a short
 * pause lets the server accept it before the next. Thousands of connects at
 * once overflow the listen backlog (Bun's: 512), and a connection whose SYN
 * is dropped waits a second for TCP's retry. Connection i goes to
 * port_of(i) (`port`, or with --ports receiver i to ports[i % nports] and
 * the sender to the first). Returns how many failed or were not established
 * by `deadline`.
 */
static int connect_all(int *fds, int n, double deadline, int (*port_of)(int)) {
  struct sockaddr_in sa = {.sin_family = AF_INET};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  unsigned char *done = calloc((size_t)n, 1);
  if (!done) die("calloc");
  int settled = 0, failed = 0;
  struct epoll_event evs[256];
  for (int first = 0; first < n; first += CONNECT_BATCH) {
    int last = first + CONNECT_BATCH < n ? first + CONNECT_BATCH : n;
    for (int i = first; i < last; i++) {
      sa.sin_port = htons((uint16_t)port_of(i));
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      if (fd < 0) die("socket");
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS) die("connect");
      fds[i] = fd;
      struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)i};
      epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    /* Established connections already watched for reading (a server's greeting) are left for later: `done`. */
    while (settled < last && now() < deadline) {
      int k = epoll_wait(ep, evs, 256, 100);
      for (int j = 0; j < k; j++) {
        int i = (int)evs[j].data.u32, err = 0;
        if (done[i]) continue;
        done[i] = 1;
        socklen_t len = sizeof err;
        getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) failed++;
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_MOD, fds[i], &ev);
        settled++;
      }
    }
    if (last < n) usleep(CONNECT_PAUSE_US);
  }
  free(done);
  return failed + (n - settled);
}

static int the_port(int index) {
  (void)index;
  return port;
}

/* Fan-out: receivers round-robin over --ports, the sender (index `receivers`) on the first. */
static int fanout_port(int index) {
  return nports == 0 ? port : index >= receivers ? ports[0] : ports[index % nports];
}

static void make_pattern(void) {
  pattern = malloc(PATTERN_BYTES + MAX_IO);
  if (!pattern) die("malloc");
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (uint32_t i = 0; i < PATTERN_BYTES; i++) {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    uint64_t r = x * 0x2545F4914F6CDD1Dull;
    /* --text: printable ASCII in lines of 100 bytes on average: what people echo. */
    if (text_mode) pattern[i] = (r >> 32) % 100 < 1 ? '\n' : (unsigned char)(' ' + (r >> 56) % 95);
    else pattern[i] = (unsigned char)(r >> 56);
  }
  /* The start again after the end: any MAX_IO bytes from an offset below PATTERN_BYTES are contiguous. */
  memcpy(pattern + PATTERN_BYTES, pattern, MAX_IO);
}

/* ---- echo ---- */

typedef struct {
  uint64_t base;           /* where in the pattern this connection starts */
  uint64_t sent, received; /* pattern offsets */
  double sent_at;          /* ping-pong: when the message in flight was sent */
  uint64_t bad_block;      /* 1 + the last block counted as a mismatch */
  int dead;
} EchoConn;

/* Compares what came back with what was sent; counts each wrong S-byte block once. */
static int check(EchoConn *c, const unsigned char *buf, ssize_t n) {
  if (c->received + (uint64_t)n <= c->sent && memcmp(buf, pattern + c->received % PATTERN_BYTES, (size_t)n) == 0) return 0;
  int wrong = 0;
  for (ssize_t b = 0; b < n; b++) {
    uint64_t off = c->received + (uint64_t)b;
    if (off < c->sent && buf[b] == pattern[off % PATTERN_BYTES]) continue;
    uint64_t block = (off - c->base) / (uint64_t)size + 1;
    if (block != c->bad_block) wrong++;
    c->bad_block = block;
  }
  return wrong;
}

/*
 * Ping-pong: the next message once the last one is back. Stream: whenever at
 * least `size` bytes of the window are free, all of the free window at once.
 */
static void echo_send(int fd, EchoConn *c) {
  uint64_t limit = c->received + (uint64_t)(stream_mode ? window : size);
  while (!c->dead && limit >= c->sent + (uint64_t)size) {
    uint64_t want = limit - c->sent;
    if (want > MAX_IO) want = MAX_IO;
    ssize_t w = write(fd, pattern + c->sent % PATTERN_BYTES, (size_t)want);
    if (w < 0) {
      if (errno != EAGAIN) c->dead = 1;
      return;
    }
    c->sent += (uint64_t)w;
    if ((uint64_t)w < want) return;
  }
}

static int run_echo(void) {
  make_pattern();
  raise_nofile(conns + 64);
  int *fds = calloc((size_t)conns, sizeof *fds);
  EchoConn *cs = calloc((size_t)conns, sizeof *cs);
  double start = now();
  int connect_failures = connect_all(fds, conns, start + 10, the_port);
  for (int i = 0; i < conns; i++) {
    /* Reads open the window again, so sending follows reading: no EPOLLOUT (it would spin). */
    cs[i].base = cs[i].sent = cs[i].received = (uint64_t)i * 7919u;
    cs[i].sent_at = now();
    echo_send(fds[i], &cs[i]);
  }
  static unsigned char buf[MAX_IO];
  struct epoll_event evs[512];
  double t_begin = now() + warmup, t_end = t_begin + seconds, cpu0 = 0, srv0 = 0;
  int counting = 0, mismatches = 0, errors = 0;
  uint64_t msgs = 0, bytes = 0;
  for (;;) {
    double t = now();
    if (!counting && t >= t_begin) {
      counting = 1;
      cpu0 = self_cpu();
      srv0 = server_cpu();
    }
    if (t >= t_end) break;
    int k = epoll_wait(ep, evs, 512, 50);
    for (int j = 0; j < k; j++) {
      int i = (int)evs[j].data.u32;
      EchoConn *c = &cs[i];
      if (c->dead) continue;
      if (evs[j].events & EPOLLIN) {
        ssize_t r = read(fds[i], buf, sizeof buf);
        if (r <= 0) {
          if (r == 0 || errno != EAGAIN) c->dead = 1, errors++;
          continue;
        }
        mismatches += check(c, buf, r);
        uint64_t before = (c->received - c->base) / (uint64_t)size;
        c->received += (uint64_t)r;
        uint64_t done = (c->received - c->base) / (uint64_t)size - before;
        if (counting) {
          msgs += done;
          bytes += (uint64_t)r;
          if (!stream_mode && done) record_us((now() - c->sent_at) * 1e6);
        }
        if (!stream_mode && c->received == c->sent) c->sent_at = now();
      }
      echo_send(fds[i], c);
    }
  }
  double cpu = self_cpu() - cpu0, srv = server_cpu() - srv0;
  /* Drain: nothing new is sent; whatever is in flight must come back. */
  double drain_end = now() + DRAIN_SECONDS;
  int undrained = 0;
  for (;;) {
    undrained = 0;
    for (int i = 0; i < conns; i++) undrained += !cs[i].dead && cs[i].received < cs[i].sent;
    if (!undrained || now() >= drain_end) break;
    int k = epoll_wait(ep, evs, 512, 50);
    for (int j = 0; j < k; j++) {
      int i = (int)evs[j].data.u32;
      if (cs[i].dead || !(evs[j].events & EPOLLIN)) continue;
      ssize_t r = read(fds[i], buf, sizeof buf);
      if (r <= 0) {
        if (r == 0 || errno != EAGAIN) cs[i].dead = 1, errors++;
        continue;
      }
      mismatches += check(&cs[i], buf, r);
      cs[i].received += (uint64_t)r;
    }
  }
  printf("mode=%s conns=%d size=%d seconds=%.3f msgs_per_s=%.1f mb_per_s=%.3f p50_us=%.0f p99_us=%.0f "
         "mismatches=%d errors=%d connect_failures=%d undrained_conns=%d client_cpu_pct=%.0f server_cpu_pct=%.0f\n",
         stream_mode ? "stream" : "pingpong", conns, size, seconds, msgs / seconds, bytes / seconds / 1e6,
         stream_mode ? -1 : percentile(0.5), stream_mode ? -1 : percentile(0.99), mismatches, errors, connect_failures,
         undrained, 100 * cpu / seconds, 100 * srv / seconds);
  return 0;
}

/* ---- fanout and idle ---- */

typedef struct {
  char line[LINE_MAX];
  int len, synced, got_byte, is_sender;
  long max_seq;
  unsigned char *seen; /* one byte per sequence number */
} Reader;

static void send_all(int fd, const char *text, size_t n) {
  size_t done = 0;
  double deadline = now() + 5;
  while (done < n && now() < deadline) {
    ssize_t w = write(fd, text + done, n - done);
    if (w > 0) done += (size_t)w;
    else if (w < 0 && errno != EAGAIN) return;
    else usleep(100);
  }
}

static void send_hello(int fd, int index) {
  if (!*hello) return;
  char out[256];
  size_t n = 0;
  for (const char *p = hello; *p && n < sizeof out - 16; p++) {
    if (p[0] == '{' && p[1] == 'i' && p[2] == '}') {
      n += (size_t)snprintf(out + n, sizeof out - n, "%d", index);
      p += 2;
    } else out[n++] = *p;
  }
  out[n++] = '\n';
  send_all(fd, out, n);
}

static uint64_t deliveries, duplicated, reordered, corrupt, other_lines, self_echoes;
static double last_delivery, last_other;

/* The first `pat` in NUL-terminated `s` (strchr for its first byte: the lines are short, the token near their start). */
static char *find(char *s, const char *pat) {
  size_t n = strlen(pat);
  for (char *p = s; (p = strchr(p, pat[0])) != NULL; p++)
    if (strncmp(p, pat, n) == 0) return p;
  return NULL;
}

/* Decimal digits at `p` into `*out`; returns the first byte after them, or NULL when there are none. */
static char *digits(char *p, uint64_t *out) {
  uint64_t v = 0;
  char *q = p;
  while (*q >= '0' && *q <= '9' && q - p < 19) v = v * 10 + (uint64_t)(*q++ - '0');
  *out = v;
  return q == p ? NULL : q;
}

/* One complete line at receiver `r` (NUL-terminated at `len`), read at time `t`. */
static void on_line(Reader *r, char *line, int len, double t) {
  line[len] = 0;
  char *s = find(line, "seq=");
  if (!s) {
    if (find(line, "sync=")) r->synced = 1;
    else other_lines++;
    last_other = t;
    return;
  }
  if (r->is_sender) {
    self_echoes++;
    return;
  }
  uint64_t seq, sent_ns;
  char *end = digits(s + 4, &seq);
  if (!end || seq >= (uint64_t)lines || strncmp(end, " t=", 3) != 0 || !digits(end + 3, &sent_ns) || !r->seen) {
    corrupt++;
    return;
  }
  if (r->seen[seq]) {
    duplicated++;
    return;
  }
  r->seen[seq] = 1;
  if ((long)seq < r->max_seq) reordered++;
  else r->max_seq = (long)seq;
  deliveries++;
  last_delivery = t;
  record_us((t - sent_ns / 1e9) * 1e6);
}

/*
 * A read's bytes at receiver `r`, all read at time `t` (every line of a read
 * gets the time it was read, so latency is never under-stated). Lines wholly
 * in `buf` are parsed where they are; only a line split across reads is
 * gathered in `r->line`.
 */
static void on_bytes(Reader *r, unsigned char *buf, ssize_t n, double t) {
  r->got_byte = 1;
  unsigned char *p = buf, *end = buf + n;
  while (p < end) {
    unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t take = (size_t)((nl ? nl : end) - p);
    if (nl && r->len == 0) {
      on_line(r, (char *)p, (int)take, t);
    } else {
      size_t room = (size_t)(LINE_MAX - 1 - r->len);
      memcpy(r->line + r->len, p, take < room ? take : room);
      r->len += (int)(take < room ? take : room);
      if (nl) {
        on_line(r, r->line, r->len, t);
        r->len = 0;
      }
    }
    if (!nl) break;
    p = nl + 1;
  }
}

/* Reads whatever is ready on every connection for up to `ms`. */
static void pump(int *fds, Reader *rs, int ms) {
  static unsigned char buf[MAX_IO];
  struct epoll_event evs[512];
  int k = epoll_wait(ep, evs, 512, ms);
  for (int j = 0; j < k; j++) {
    int i = (int)evs[j].data.u32;
    for (int reads = 0; reads < 4; reads++) {
      ssize_t n = read(fds[i], buf, sizeof buf);
      if (n > 0) on_bytes(&rs[i], buf, n, now());
      if (n <= 0) {
        if (n == 0 || errno != EAGAIN) {
          epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], NULL);
        }
        break;
      }
    }
  }
}

static int all(Reader *rs, int n, int sync) {
  for (int i = 0; i < n; i++)
    if (!(sync ? rs[i].synced : rs[i].got_byte)) return 0;
  return 1;
}

static int run_fanout(void) {
  int n = receivers + 1, sender = receivers;
  raise_nofile(n + 64);
  int *fds = calloc((size_t)n, sizeof *fds);
  Reader *rs = calloc((size_t)n, sizeof *rs);
  double connect_start = now();
  int connect_failures = connect_all(fds, n, connect_start + 10, fanout_port);
  double connect_s = now() - connect_start;
  rs[sender].is_sender = 1;
  for (int i = 0; i < n; i++) send_hello(fds[i], i);
  /* Sync: until every receiver has seen one of the sender's lines, the server may not count it in. */
  /* Sync lines are relayed to everyone too: sent ever less often, they do not add to a backlog they wait behind. */
  double sync_seconds = SYNC_SECONDS + 0.02 * receivers, sync_end = now() + sync_seconds, next = 0, every = 0.02;
  for (int k = 0; !all(rs, receivers, 1) && now() < sync_end;) {
    if (now() >= next) {
      char text[32];
      int len = snprintf(text, sizeof text, "sync=%d\n", k++);
      send_all(fds[sender], text, (size_t)len);
      next = now() + every;
      every = every * 2 < SYNC_EVERY_MAX ? every * 2 : SYNC_EVERY_MAX;
    }
    pump(fds, rs, 5);
  }
  int unsynced = 0;
  for (int i = 0; i < receivers; i++) unsynced += !rs[i].synced;
  double sync_s = now() - connect_start - connect_s;
  /* Settle: until no line but the measured ones has arrived for settle_ms. */
  double settle_start = now(), settle_end = settle_start + sync_seconds;
  last_other = settle_start;
  while (settle_ms > 0 && now() - last_other < settle_ms / 1e3 && now() < settle_end) pump(fds, rs, 5);
  double settled = now() - settle_start;
  for (int i = 0; i < receivers; i++) rs[i].seen = calloc((size_t)lines, 1), rs[i].max_seq = -1;
  other_lines = 0;
  /* Send: `seq=N t=NS pad=...`, 64 bytes, at `rate` lines/s (0: as fast as the socket takes them). */
  double start = now(), cpu0 = self_cpu(), srv0 = server_cpu(), busy0 = machine_busy(), give_up = start + MAX_SECONDS;
  last_delivery = start;
  char text[LINE_BYTES + 1];
  int sent = 0, offset = 0, len = 0;
  while (now() < give_up) {
    if (sent < lines) {
      double due = rate ? start + (double)sent / rate : 0;
      while (sent < lines && now() >= due) {
        if (offset == len) {
          len = snprintf(text, sizeof text, "seq=%d t=%.0f pad=", sent, now() * 1e9);
          while (len < LINE_BYTES - 1) text[len++] = 'x';
          text[len++] = '\n';
          offset = 0;
        }
        ssize_t w = write(fds[sender], text + offset, (size_t)(len - offset));
        if (w <= 0) break;
        offset += (int)w;
        if (offset < len) break;
        sent++;
        offset = len = 0;
        if (rate) due = start + (double)sent / rate;
      }
    } else if (deliveries >= (uint64_t)lines * (uint64_t)receivers || now() - last_delivery > IDLE_AFTER_SEND) break;
    pump(fds, rs, sent < lines ? (rate ? 1 : 0) : 10);
  }
  double elapsed = (deliveries ? last_delivery : now()) - start;
  double cpu = self_cpu() - cpu0, srv = server_cpu() - srv0, wall = now() - start;
  /* What the rest of the machine did meanwhile (whole 10 ms ticks: a few % either way). */
  double other = machine_busy() - busy0 - cpu - srv;
  uint64_t expected = (uint64_t)sent * (uint64_t)receivers;
  printf("mode=fanout servers=%d receivers=%d lines_sent=%d rate=%d deliveries=%llu lost=%llu duplicated=%llu reordered=%llu "
         "corrupt=%llu p50_us=%.0f p99_us=%.0f seconds=%.3f deliveries_per_s=%.0f unsynced=%d connect_failures=%d "
         "other_lines=%llu self_echoes=%llu connect_s=%.3f sync_s=%.3f settle_s=%.3f client_cpu_pct=%.0f server_cpu_pct=%.0f server_cpu_s=%.3f other_cpu_pct=%.0f\n",
         nports ? nports : 1, receivers, sent, rate, (unsigned long long)deliveries, (unsigned long long)(expected - deliveries),
         (unsigned long long)duplicated, (unsigned long long)reordered, (unsigned long long)corrupt, percentile(0.5),
         percentile(0.99), elapsed, elapsed > 0 ? deliveries / elapsed : 0, unsynced, connect_failures,
         (unsigned long long)other_lines, (unsigned long long)self_echoes, connect_s, sync_s, settled, 100 * cpu / wall, 100 * srv / wall, srv, 100 * other / wall);
  return 0;
}

/* One non-blocking connect to 127.0.0.1:port, watched for EPOLLOUT (connected) under `index`. */
static int open_one(int index) {
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) die("socket");
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS) die("connect");
  struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)index};
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  return fd;
}

/*
 * Connections are opened while fewer than IDLE_IN_FLIGHT are waiting for the
 * server's first byte: a burst of connects past the listen backlog (Bun: 512)
 * would measure TCP's 1 s SYN retry instead of the server.
 */
#define IDLE_IN_FLIGHT 256

static int run_idle(void) {
  raise_nofile(conns + 64);
  int *fds = calloc((size_t)conns, sizeof *fds);
  Reader *rs = calloc((size_t)conns, sizeof *rs);
  double start = now(), deadline = start + 30;
  int opened = 0, answered = 0, failed = 0;
  static unsigned char buf[MAX_IO];
  struct epoll_event evs[512];
  while (answered + failed < conns && now() < deadline) {
    while (opened < conns && opened - answered - failed < IDLE_IN_FLIGHT) {
      fds[opened] = open_one(opened);
      opened++;
    }
    int k = epoll_wait(ep, evs, 512, 20);
    for (int j = 0; j < k; j++) {
      int i = (int)evs[j].data.u32;
      if (evs[j].events & EPOLLOUT) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &len);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, err ? EPOLL_CTL_DEL : EPOLL_CTL_MOD, fds[i], &ev);
        if (err) failed++;
        else send_hello(fds[i], i);
        continue;
      }
      ssize_t n = read(fds[i], buf, sizeof buf);
      if (n > 0 && !rs[i].got_byte) answered++;
      if (n > 0) rs[i].got_byte = 1;
      else if (n == 0 || errno != EAGAIN) {
        epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], NULL);
        if (!rs[i].got_byte) failed++;
        rs[i].got_byte = 1;
      }
    }
  }
  double setup = now() - start;
  /* The orchestrator reads the server's memory while the connections are held. */
  printf("ready setup_s=%.3f\n", setup);
  fflush(stdout);
  double end = now() + hold;
  while (now() < end) pump(fds, rs, 20);
  printf("mode=idle conns=%d setup_s=%.3f set_up=%d failed=%d\n", conns, setup, answered, failed);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: load echo|fanout|idle --port P [options]\n");
    return 2;
  }
  const char *mode = argv[1];
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
    if (!strcmp(a, "--stream")) { stream_mode = 1; continue; }
    if (!strcmp(a, "--text")) { text_mode = 1; continue; }
    i++;
    if (!strcmp(a, "--port")) port = atoi(v);
    else if (!strcmp(a, "--conns")) conns = atoi(v);
    else if (!strcmp(a, "--size")) size = atoi(v);
    else if (!strcmp(a, "--seconds")) seconds = atof(v);
    else if (!strcmp(a, "--warmup")) warmup = atof(v);
    else if (!strcmp(a, "--window")) window = atoi(v);
    else if (!strcmp(a, "--receivers")) receivers = atoi(v);
    else if (!strcmp(a, "--lines")) lines = atoi(v);
    else if (!strcmp(a, "--rate")) rate = atoi(v);
    else if (!strcmp(a, "--hello")) hello = v;
    else if (!strcmp(a, "--hold")) hold = atof(v);
    else if (!strcmp(a, "--settle")) settle_ms = atof(v);
    else if (!strcmp(a, "--server-pid")) npids = parse_list(v, server_pids, MAX_PIDS);
    else if (!strcmp(a, "--ports")) {
      nports = parse_list(v, ports, MAX_PORTS);
      if (nports > 0) port = ports[0];
    }
    else {
      fprintf(stderr, "load: unknown option %s\n", a);
      return 2;
    }
  }
  int bad_port = port <= 0 || port > 65535;
  for (int k = 0; k < nports; k++) bad_port |= ports[k] > 65535;
  if (npids < 0 || nports < 0 || bad_port || conns <= 0 || size <= 0 || size > MAX_IO || seconds <= 0 || seconds > MAX_SECONDS ||
      lines <= 0 || receivers <= 0) {
    fprintf(stderr, "load: bad options\n");
    return 2;
  }
  ep = epoll_create1(0);
  if (ep < 0) die("epoll_create1");
  if (!strcmp(mode, "echo")) return run_echo();
  if (!strcmp(mode, "fanout")) return run_fanout();
  if (!strcmp(mode, "idle")) return run_idle();
  fprintf(stderr, "load: unknown mode %s\n", mode);
  return 2;
}
