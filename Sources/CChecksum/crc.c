#include "cchecksum.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#include <asm/hwcap.h>
#include <arm_acle.h>
#endif

/* Slicing-by-8 tables for the reflected polynomials, built once. */
static uint32_t crc32c_table[8][256];
static uint64_t crc64_table[8][256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;
static int has_instruction = 0;

static void build_tables(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        uint64_t d = n;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            d = (d & 1) ? (d >> 1) ^ 0x9A6C9329AC4BC9B5ull : d >> 1;
        }
        crc32c_table[0][n] = c;
        crc64_table[0][n] = d;
    }
    for (int t = 1; t < 8; t++) {
        for (int n = 0; n < 256; n++) {
            crc32c_table[t][n] = (crc32c_table[t - 1][n] >> 8) ^ crc32c_table[0][crc32c_table[t - 1][n] & 0xFF];
            crc64_table[t][n] = (crc64_table[t - 1][n] >> 8) ^ crc64_table[0][crc64_table[t - 1][n] & 0xFF];
        }
    }
#if defined(__x86_64__)
    __builtin_cpu_init();
    has_instruction = __builtin_cpu_supports("sse4.2") ? 1 : 0;
#elif defined(__aarch64__) && defined(__linux__)
    has_instruction = (getauxval(AT_HWCAP) & HWCAP_CRC32) ? 1 : 0;
#endif
}

static inline uint64_t load64(const unsigned char *p) {
    uint64_t v;
    memcpy(&v, p, sizeof v);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static uint32_t crc32c_table_driven(uint32_t crc, const unsigned char *p, size_t n) {
    while (n && ((uintptr_t)p & 7)) {
        crc = crc32c_table[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
        n--;
    }
    while (n >= 8) {
        uint64_t v = load64(p) ^ crc;
        crc = crc32c_table[7][v & 0xFF] ^ crc32c_table[6][(v >> 8) & 0xFF] ^
              crc32c_table[5][(v >> 16) & 0xFF] ^ crc32c_table[4][(v >> 24) & 0xFF] ^
              crc32c_table[3][(v >> 32) & 0xFF] ^ crc32c_table[2][(v >> 40) & 0xFF] ^
              crc32c_table[1][(v >> 48) & 0xFF] ^ crc32c_table[0][v >> 56];
        p += 8;
        n -= 8;
    }
    while (n--) crc = crc32c_table[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2")))
static uint32_t crc32c_instruction(uint32_t crc, const unsigned char *p, size_t n) {
    uint64_t c = crc;
    while (n && ((uintptr_t)p & 7)) { c = _mm_crc32_u8((uint32_t)c, *p++); n--; }
    while (n >= 8) { uint64_t v; memcpy(&v, p, 8); c = _mm_crc32_u64(c, v); p += 8; n -= 8; }
    while (n--) c = _mm_crc32_u8((uint32_t)c, *p++);
    return (uint32_t)c;
}
#elif defined(__aarch64__) && defined(__linux__)
__attribute__((target("crc")))
static uint32_t crc32c_instruction(uint32_t crc, const unsigned char *p, size_t n) {
    while (n && ((uintptr_t)p & 7)) { crc = __crc32cb(crc, *p++); n--; }
    while (n >= 8) { uint64_t v; memcpy(&v, p, 8); crc = __crc32cd(crc, v); p += 8; n -= 8; }
    while (n--) crc = __crc32cb(crc, *p++);
    return crc;
}
#endif

uint32_t bucketflow_crc32c_portable(uint32_t crc, const void *data, size_t length) {
    pthread_once(&tables_once, build_tables);
    return ~crc32c_table_driven(~crc, (const unsigned char *)data, length);
}

uint32_t bucketflow_crc32c(uint32_t crc, const void *data, size_t length) {
    pthread_once(&tables_once, build_tables);
#if defined(__x86_64__) || (defined(__aarch64__) && defined(__linux__))
    if (has_instruction) return ~crc32c_instruction(~crc, (const unsigned char *)data, length);
#endif
    return ~crc32c_table_driven(~crc, (const unsigned char *)data, length);
}

int bucketflow_crc32c_uses_instruction(void) {
    pthread_once(&tables_once, build_tables);
    return has_instruction;
}

uint64_t bucketflow_crc64nvme(uint64_t crc, const void *data, size_t length) {
    pthread_once(&tables_once, build_tables);
    const unsigned char *p = (const unsigned char *)data;
    size_t n = length;
    uint64_t c = ~crc;
    while (n && ((uintptr_t)p & 7)) { c = crc64_table[0][(c ^ *p++) & 0xFF] ^ (c >> 8); n--; }
    while (n >= 8) {
        uint64_t v = load64(p) ^ c;
        c = crc64_table[7][v & 0xFF] ^ crc64_table[6][(v >> 8) & 0xFF] ^
            crc64_table[5][(v >> 16) & 0xFF] ^ crc64_table[4][(v >> 24) & 0xFF] ^
            crc64_table[3][(v >> 32) & 0xFF] ^ crc64_table[2][(v >> 40) & 0xFF] ^
            crc64_table[1][(v >> 48) & 0xFF] ^ crc64_table[0][v >> 56];
        p += 8;
        n -= 8;
    }
    while (n--) c = crc64_table[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    return ~c;
}

/* zlib's crc32_combine, for any reflected CRC of up to 64 bits whose
 * initial value and final xor are both all ones: multiplies crc_a by x^(8n)
 * modulo the polynomial (squaring a 64x64 GF(2) operator), then adds crc_b. */
static uint64_t gf2_times(const uint64_t *matrix, uint64_t vector) {
    uint64_t sum = 0;
    while (vector) {
        if (vector & 1) sum ^= *matrix;
        vector >>= 1;
        matrix++;
    }
    return sum;
}

static void gf2_square(uint64_t *square, const uint64_t *matrix, int width) {
    for (int n = 0; n < width; n++) square[n] = gf2_times(matrix, matrix[n]);
}

static uint64_t crc_combine(uint64_t crc_a, uint64_t crc_b, uint64_t length_b, uint64_t polynomial, int width) {
    uint64_t even[64], odd[64];
    if (length_b == 0) return crc_a;
    odd[0] = polynomial; /* the operator for one zero bit */
    uint64_t row = 1;
    for (int n = 1; n < width; n++) { odd[n] = row; row <<= 1; }
    gf2_square(even, odd, width); /* two zero bits */
    gf2_square(odd, even, width); /* four zero bits */
    do {
        gf2_square(even, odd, width);
        if (length_b & 1) crc_a = gf2_times(even, crc_a);
        length_b >>= 1;
        if (length_b == 0) break;
        gf2_square(odd, even, width);
        if (length_b & 1) crc_a = gf2_times(odd, crc_a);
        length_b >>= 1;
    } while (length_b != 0);
    return crc_a ^ crc_b;
}

uint32_t bucketflow_crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t length_b) {
    return (uint32_t)crc_combine(crc_a, crc_b, length_b, 0x82F63B78u, 32);
}

uint64_t bucketflow_crc64nvme_combine(uint64_t crc_a, uint64_t crc_b, uint64_t length_b) {
    return crc_combine(crc_a, crc_b, length_b, 0x9A6C9329AC4BC9B5ull, 64);
}
