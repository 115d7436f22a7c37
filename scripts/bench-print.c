/*
 * The printing budget of `bun run bench`: what sanitising received lines for
 * printing costs when written in C, next to chat's own (sanitizeInto in
 * src/text/sanitize.ts, the same algorithm: a table for bytes that are a
 * character by themselves, the UTF-8 rules for the rest; one U+FFFD per
 * maximal invalid subsequence, a leading byte-order mark dropped, C0, DEL,
 * C1 and bidirectional controls made visible).
 *
 *   bench-print LINES LINE_BYTES ROUNDS
 *
 * Input: the bench's pseudo-random bytes (all 256 values, the load
 * generator's stream), cut into LINES lines of LINE_BYTES. Prints one line
 * of key=value: ns_per_byte (best round), out_bytes and an FNV-1a hash of
 * the output, which bench.ts checks against its own.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef uint8_t u8;

/* Low 3 bytes: the output of a byte that is a character by itself; top byte: its length (0: a lead byte). */
static uint32_t single[256];
static const u8 HEX[] = "0123456789ABCDEF";
static const u8 FFFD[] = {0xef, 0xbf, 0xbd};

static void init(void) {
  for (int b = 0; b < 256; b++) {
    if (b == 9 || (b >= 0x20 && b < 0x7f)) single[b] = (1u << 24) | (uint32_t)b;
    else if (b < 0x20 || b == 0x7f) single[b] = (2u << 24) | ((uint32_t)(b == 0x7f ? 0x3f : b + 64) << 8) | 0x5e;
    else if (b < 0xc2 || b > 0xf4) single[b] = (3u << 24) | 0xbdbfef;
  }
}

static u8 *notation(u8 *d, unsigned cp) {
  d[0] = '<', d[1] = 'U', d[2] = '+';
  for (int k = 0; k < 4; k++) d[3 + k] = HEX[(cp >> (12 - 4 * k)) & 15];
  d[7] = '>';
  return d + 8;
}

static u8 *replacement(u8 *d) {
  memcpy(d, FFFD, 3);
  return d + 3;
}

static int bidi(unsigned cp) {
  return cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* d needs room for 8 bytes per input byte (4 for the output, 4 for the word store's slack). */
static size_t sanitize(const u8 *s, size_t n, u8 *d0) {
  u8 *d = d0;
  size_t i = 0;
  if (n >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf) i = 3;
  while (i < n) {
    uint32_t one = single[s[i]];
    if (one != 0) {
      memcpy(d, &one, 4);
      d += one >> 24, i++;
      continue;
    }
    u8 b = s[i], c = i + 1 < n ? s[i + 1] : 0;
    if (b < 0xe0) {
      if ((c & 0xc0) != 0x80) d = replacement(d), i++;
      else if (b == 0xc2 && c < 0xa0) d = notation(d, c), i += 2;
      else d[0] = b, d[1] = c, d += 2, i += 2;
      continue;
    }
    u8 low = b == 0xe0 ? 0xa0 : b == 0xf0 ? 0x90 : 0x80, high = b == 0xed ? 0x9f : b == 0xf4 ? 0x8f : 0xbf;
    if (c < low || c > high) {
      d = replacement(d), i++;
      continue;
    }
    u8 e = i + 2 < n ? s[i + 2] : 0;
    if ((e & 0xc0) != 0x80) {
      d = replacement(d), i += 2;
      continue;
    }
    if (b < 0xf0) {
      unsigned cp = ((b & 15u) << 12) | ((c & 63u) << 6) | (e & 63u);
      if (bidi(cp)) d = notation(d, cp);
      else d[0] = b, d[1] = c, d[2] = e, d += 3;
      i += 3;
      continue;
    }
    u8 f = i + 3 < n ? s[i + 3] : 0;
    if ((f & 0xc0) != 0x80) {
      d = replacement(d), i += 3;
      continue;
    }
    d[0] = b, d[1] = c, d[2] = e, d[3] = f, d += 4, i += 4;
  }
  return (size_t)(d - d0);
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: bench-print LINES LINE_BYTES ROUNDS\n");
    return 2;
  }
  size_t lines = strtoul(argv[1], 0, 10), width = strtoul(argv[2], 0, 10);
  int rounds = atoi(argv[3]);
  size_t total = lines * width;
  u8 *in = malloc(total), *out = malloc(width * 8 + 8);
  if (!in || !out) return 1;
  uint32_t x = 12345;
  for (size_t i = 0; i < total; i++) x = x * 1103515245u + 12345u, in[i] = (u8)(x >> 24);
  init();
  double best = 1e18;
  uint64_t out_bytes = 0;
  uint32_t hash = 2166136261u;
  for (int r = 0; r < rounds; r++) {
    double t0 = now_ns();
    uint64_t sum = 0;
    for (size_t l = 0; l < lines; l++) {
      size_t m = sanitize(in + l * width, width, out);
      sum += m;
      if (r == 0)
        for (size_t k = 0; k < m; k++) hash = (hash ^ out[k]) * 16777619u;
    }
    double t = now_ns() - t0;
    if (r > 0 && t < best) best = t; /* the first round also hashes */
    out_bytes = sum;
  }
  printf("ns_per_byte=%.3f out_bytes=%llu hash=%u\n", best / (double)total, (unsigned long long)out_bytes, hash);
  return 0;
}
