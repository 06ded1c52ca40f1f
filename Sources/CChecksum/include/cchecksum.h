#ifndef BUCKETFLOW_CCHECKSUM_H
#define BUCKETFLOW_CCHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/*
 * CRC-32C (Castagnoli) and CRC-64/NVME, the checksums S3 accepts in
 * x-amz-checksum-crc32c and x-amz-checksum-crc64nvme.
 *
 * Both follow zlib's convention: start with 0, pass the previous result
 * back in, and the result after the last block is the checksum.
 *
 * CRC-32C uses the CPU's CRC32 instruction (SSE4.2 on x86-64, the CRC
 * extension on AArch64) when the CPU has it, chosen once at run time, and
 * a slicing-by-8 table otherwise; both give the same values.
 */

uint32_t bucketflow_crc32c(uint32_t crc, const void *data, size_t length);
uint64_t bucketflow_crc64nvme(uint64_t crc, const void *data, size_t length);

/*
 * The checksum of A followed by B, from crc(A), crc(B) and B's length,
 * without the bytes (zlib's crc32_combine, a GF(2) shift): parts hashed in
 * parallel give the whole object's checksum.
 */
uint32_t bucketflow_crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t length_b);
uint64_t bucketflow_crc64nvme_combine(uint64_t crc_a, uint64_t crc_b, uint64_t length_b);

/* The table-driven CRC-32C, exposed so tests can compare it with the instruction. */
uint32_t bucketflow_crc32c_portable(uint32_t crc, const void *data, size_t length);

/* 1 when bucketflow_crc32c uses the CPU instruction, 0 when it uses the table. */
int bucketflow_crc32c_uses_instruction(void);

#endif
