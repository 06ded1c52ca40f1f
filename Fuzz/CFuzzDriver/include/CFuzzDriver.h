#include <stddef.h>
#include <stdint.h>

// libFuzzer's driver (compiler-rt), linked in by -sanitize=fuzzer. The fuzz
// executable calls it from its own entry point: SwiftPM names an
// executable's entry point MODULE_main, so libFuzzer's main is not used.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
