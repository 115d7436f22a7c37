/*
 * The printing budget of `bun run bench`: what sanitising received lines for
 * printing costs when written in C, next to chat's own (sanitizeInto in
 * src/text/sanitize.ts, the same algorithm: a table for bytes that are a
 * character by themselves, the UTF-8 rules for the rest; one U+FFFD per
 * maximal invalid subsequence, a leading byte-order mark dropped, C0, DEL,
 * C1 and the invisible characters of src/text/invisible.ts made visible, with
 * its joiners' exception).
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
/* 1 for each 64-code-point block of the BMP that holds an invisible character; 1 for the 2-byte characters made visible (C1, U+00AD, ...). */
static u8 invisible_block[1024], shown_below_800[0x800];
static int invisible(long cp);

static void init(void) {
  for (int b = 0; b < 256; b++) {
    if (b == 9 || (b >= 0x20 && b < 0x7f)) single[b] = (1u << 24) | (uint32_t)b;
    else if (b < 0x20 || b == 0x7f) single[b] = (2u << 24) | ((uint32_t)(b == 0x7f ? 0x3f : b + 64) << 8) | 0x5e;
    else if (b < 0xc2 || b > 0xf4) single[b] = (3u << 24) | 0xbdbfef;
  }
  for (long cp = 0xa0; cp < 0x10000; cp++)
    if (invisible(cp)) invisible_block[cp >> 6] = 1;
  for (long cp = 0x80; cp < 0x800; cp++) shown_below_800[cp] = cp < 0xa0 || invisible(cp);
}

/* <U+XXXX>, 5 or 6 hex digits past U+FFFF. */
static u8 *notation(u8 *d, unsigned long cp) {
  d[0] = '<', d[1] = 'U', d[2] = '+', d += 3;
  for (int shift = cp > 0xfffff ? 20 : cp > 0xffff ? 16 : 12; shift >= 0; shift -= 4) *d++ = HEX[(cp >> shift) & 15];
  *d = '>';
  return d + 1;
}

static u8 *replacement(u8 *d) {
  memcpy(d, FFFD, 3);
  return d + 3;
}

/* isInvisible, isJoiningLetter, isEmojiExtend, isPictographic and joinerKept of src/text/invisible.ts. */
static int invisible(long cp) {
  if (cp < 0x2000)
    return cp == 0xad || (cp >= 0x600 && cp <= 0x605) || cp == 0x61c || cp == 0x6dd || cp == 0x70f || cp == 0x890 || cp == 0x891 ||
           cp == 0x8e2 || cp == 0x115f || cp == 0x1160 || cp == 0x180e;
  if (cp < 0x3000) return (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x206f);
  if (cp < 0x10000) return cp == 0x3164 || cp == 0xfeff || cp == 0xffa0 || (cp >= 0xfff9 && cp <= 0xfffb);
  return cp == 0x110bd || cp == 0x110cd || (cp >= 0x13430 && cp <= 0x1343f) || (cp >= 0x1bca0 && cp <= 0x1bca3) ||
         (cp >= 0x1d173 && cp <= 0x1d17a) || (cp >= 0xe0000 && cp <= 0xe007f);
}

static int joining_letter(long cp) {
  int in_block = (cp >= 0x600 && cp <= 0x77f) || (cp >= 0x860 && cp <= 0xdff) || (cp >= 0xa8e0 && cp <= 0xa8ff) ||
                 (cp >= 0xfb50 && cp <= 0xfdff) || (cp >= 0xfe70 && cp <= 0xfefe);
  return in_block && !invisible(cp);
}

static int emoji_extend(long cp) { return (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0x1f3fb && cp <= 0x1f3ff); }

static const long PICTOGRAPHIC[] = {0xa9, 0xa9, 0xae, 0xae, 0x203c, 0x203c, 0x2049, 0x2049, 0x2122, 0x2122, 0x2139, 0x2139, 0x2194, 0x2199, 0x21a9, 0x21aa, 0x231a,
  0x231b, 0x2328, 0x2328, 0x23cf, 0x23cf, 0x23e9, 0x23f3, 0x23f8, 0x23fa, 0x24c2, 0x24c2, 0x25aa, 0x25ab, 0x25b6, 0x25b6, 0x25c0,
  0x25c0, 0x25fb, 0x25fe, 0x2600, 0x2604, 0x260e, 0x260e, 0x2611, 0x2611, 0x2614, 0x2615, 0x2618, 0x2618, 0x261d, 0x261d, 0x2620,
  0x2620, 0x2622, 0x2623, 0x2626, 0x2626, 0x262a, 0x262a, 0x262e, 0x262f, 0x2638, 0x263a, 0x2640, 0x2640, 0x2642, 0x2642, 0x2648,
  0x2653, 0x265f, 0x2660, 0x2663, 0x2663, 0x2665, 0x2666, 0x2668, 0x2668, 0x267b, 0x267b, 0x267e, 0x267f, 0x2692, 0x2697, 0x2699,
  0x2699, 0x269b, 0x269c, 0x26a0, 0x26a1, 0x26a7, 0x26a7, 0x26aa, 0x26ab, 0x26b0, 0x26b1, 0x26bd, 0x26be, 0x26c4, 0x26c5, 0x26c8,
  0x26c8, 0x26ce, 0x26cf, 0x26d1, 0x26d1, 0x26d3, 0x26d4, 0x26e9, 0x26ea, 0x26f0, 0x26f5, 0x26f7, 0x26fa, 0x26fd, 0x26fd, 0x2702,
  0x2702, 0x2705, 0x2705, 0x2708, 0x270d, 0x270f, 0x270f, 0x2712, 0x2712, 0x2714, 0x2714, 0x2716, 0x2716, 0x271d, 0x271d, 0x2721,
  0x2721, 0x2728, 0x2728, 0x2733, 0x2734, 0x2744, 0x2744, 0x2747, 0x2747, 0x274c, 0x274c, 0x274e, 0x274e, 0x2753, 0x2755, 0x2757,
  0x2757, 0x2763, 0x2764, 0x2795, 0x2797, 0x27a1, 0x27a1, 0x27b0, 0x27b0, 0x27bf, 0x27bf, 0x2934, 0x2935, 0x2b05, 0x2b07, 0x2b1b,
  0x2b1c, 0x2b50, 0x2b50, 0x2b55, 0x2b55, 0x3030, 0x3030, 0x303d, 0x303d, 0x3297, 0x3297, 0x3299, 0x3299, 0x1f004, 0x1f004, 0x1f02c,
  0x1f02f, 0x1f094, 0x1f09f, 0x1f0af, 0x1f0b0, 0x1f0c0, 0x1f0c0, 0x1f0cf, 0x1f0d0, 0x1f0f6, 0x1f0ff, 0x1f170, 0x1f171, 0x1f17e,
  0x1f17f, 0x1f18e, 0x1f18e, 0x1f191, 0x1f19a, 0x1f1ae, 0x1f1e5, 0x1f201, 0x1f20f, 0x1f21a, 0x1f21a, 0x1f22f, 0x1f22f, 0x1f232,
  0x1f23a, 0x1f23c, 0x1f23f, 0x1f249, 0x1f25f, 0x1f266, 0x1f321, 0x1f324, 0x1f393, 0x1f396, 0x1f397, 0x1f399, 0x1f39b, 0x1f39e,
  0x1f3f0, 0x1f3f3, 0x1f3f5, 0x1f3f7, 0x1f3fa, 0x1f400, 0x1f4fd, 0x1f4ff, 0x1f53d, 0x1f549, 0x1f54e, 0x1f550, 0x1f567, 0x1f56f,
  0x1f570, 0x1f573, 0x1f57a, 0x1f587, 0x1f587, 0x1f58a, 0x1f58d, 0x1f590, 0x1f590, 0x1f595, 0x1f596, 0x1f5a4, 0x1f5a5, 0x1f5a8,
  0x1f5a8, 0x1f5b1, 0x1f5b2, 0x1f5bc, 0x1f5bc, 0x1f5c2, 0x1f5c4, 0x1f5d1, 0x1f5d3, 0x1f5dc, 0x1f5de, 0x1f5e1, 0x1f5e1, 0x1f5e3,
  0x1f5e3, 0x1f5e8, 0x1f5e8, 0x1f5ef, 0x1f5ef, 0x1f5f3, 0x1f5f3, 0x1f5fa, 0x1f64f, 0x1f680, 0x1f6c5, 0x1f6cb, 0x1f6d2, 0x1f6d5,
  0x1f6e5, 0x1f6e9, 0x1f6e9, 0x1f6eb, 0x1f6f0, 0x1f6f3, 0x1f6ff, 0x1f7da, 0x1f7ff, 0x1f80c, 0x1f80f, 0x1f848, 0x1f84f, 0x1f85a,
  0x1f85f, 0x1f888, 0x1f88f, 0x1f8ae, 0x1f8af, 0x1f8bc, 0x1f8bf, 0x1f8c2, 0x1f8cf, 0x1f8d9, 0x1f8ff, 0x1f90c, 0x1f93a, 0x1f93c,
  0x1f945, 0x1f947, 0x1f9ff, 0x1fa58, 0x1fa5f, 0x1fa6e, 0x1faff, 0x1fc00, 0x1fffd};

static int pictographic(long cp) {
  int lo = 0, hi = (int)(sizeof PICTOGRAPHIC / sizeof PICTOGRAPHIC[0]) / 2 - 1;
  while (lo <= hi) {
    int mid = (lo + hi) >> 1;
    if (cp < PICTOGRAPHIC[2 * mid]) hi = mid - 1;
    else if (cp > PICTOGRAPHIC[2 * mid + 1]) lo = mid + 1;
    else return 1;
  }
  return 0;
}

static int joiner_kept(long cp, long before, long base, long after) {
  if (joining_letter(before) && joining_letter(after)) return 1;
  return cp == 0x200d && pictographic(base) && pictographic(after);
}

/* The code point of the UTF-8 character at s[i] in a line of n bytes, its length in *len; -1 when the decoder makes U+FFFD of it or i is the end. */
static long decode_at(const u8 *s, size_t i, size_t n, int *len) {
  if (i >= n) return -1;
  u8 b = s[i];
  if ((b >= 0x80 && b < 0xc2) || b > 0xf4) return -1;
  *len = b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
  if (*len == 1) return b;
  u8 c = i + 1 < n ? s[i + 1] : 0;
  u8 low = b == 0xe0 ? 0xa0 : b == 0xf0 ? 0x90 : 0x80, high = b == 0xed ? 0x9f : b == 0xf4 ? 0x8f : 0xbf;
  if (c < low || c > high) return -1;
  long cp = (b & (0x7f >> *len)) * 64 + (c & 63);
  for (int k = 2; k < *len; k++) {
    u8 x = i + k < n ? s[i + k] : 0;
    if ((x & 0xc0) != 0x80) return -1;
    cp = cp * 64 + (x & 63);
  }
  return cp;
}

/* The code point the decoder makes of the bytes just before `at`, its start in *from; -1 at the line's start or for U+FFFD. */
static long decode_before(const u8 *s, size_t at, size_t *from) {
  if (at == 0) return -1;
  size_t q = at - 1;
  while (q > 0 && q + 4 > at && (s[q] & 0xc0) == 0x80) q--;
  if ((s[q] & 0xc0) == 0x80) return -1;
  int len = 0;
  long cp = decode_at(s, q, at, &len);
  if (cp < 0 || q + (size_t)len != at) return -1;
  *from = q;
  return cp;
}

static int kept(long cp, const u8 *s, size_t at, size_t n) {
  size_t from = at;
  long before = decode_before(s, at, &from), base = before;
  while (emoji_extend(base)) base = decode_before(s, from, &from);
  int len = 0;
  return joiner_kept(cp, before, base, decode_at(s, at + 3, n, &len));
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
      else {
        unsigned cp = ((b & 31u) << 6) | (c & 63u);
        if (shown_below_800[cp]) d = notation(d, cp);
        else d[0] = b, d[1] = c, d += 2;
        i += 2;
      }
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
      if (invisible_block[cp >> 6] && invisible(cp) && !((cp == 0x200c || cp == 0x200d) && kept(cp, s, i, n))) d = notation(d, cp);
      else d[0] = b, d[1] = c, d[2] = e, d += 3;
      i += 3;
      continue;
    }
    u8 f = i + 3 < n ? s[i + 3] : 0;
    if ((f & 0xc0) != 0x80) {
      d = replacement(d), i += 3;
      continue;
    }
    if ((b == 0xf0 && (c == 0x91 || c == 0x93 || c == 0x9b || c == 0x9d)) || (b == 0xf3 && c == 0xa0)) {
      unsigned long cp = ((b & 7ul) << 18) | ((c & 63ul) << 12) | ((e & 63ul) << 6) | (f & 63ul);
      if (invisible((long)cp)) {
        d = notation(d, cp), i += 4;
        continue;
      }
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
