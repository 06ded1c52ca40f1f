#ifndef CBUILDINFO_H
#define CBUILDINFO_H

/// The git commit bucketflow was built from (BUCKETFLOW_GIT_COMMIT at build
/// time, set by scripts/install), or "unknown".
const char *bucketflow_git_commit(void);

#endif
