#include "CBuildInfo.h"

#define BF_STRINGIFY2(x) #x
#define BF_STRINGIFY(x) BF_STRINGIFY2(x)

#ifndef BUCKETFLOW_GIT_COMMIT
#define BUCKETFLOW_GIT_COMMIT unknown
#endif

const char *bucketflow_git_commit(void) {
    return BF_STRINGIFY(BUCKETFLOW_GIT_COMMIT);
}
