/* An LD_PRELOAD shim that records every change a process makes to the files in one directory,
 * so a test can rebuild the disk a power cut would have left: only what was synced.
 *
 * DISK_MODEL_DIR names the directory (absolute, resolved); DISK_MODEL_LOG the log file, which
 * must be outside it. Every write, truncate, create, unlink and rename of a file in the
 * directory, and every fsync/fdatasync of such a file or of the directory itself, is appended
 * to the log with plain write(2): a change once the kernel took it, a sync both when it starts
 * and once it returned, and the model counts as synced only what was logged before the start
 * of a sync that returned, so the log never claims more durability than there was (a write
 * racing a sync is taken as lost). The log lives in the page cache and survives a SIGKILL;
 * it is the test's oracle, not part of the modelled disk. disk_model_note() adds the process's
 * own marks (an ack sent) in the same order, so a cut anywhere in the log knows what the
 * client had seen by then.
 *
 * SQLite's unix VFS calls open64, pwrite64, ftruncate64, fdatasync, unlink and close through a
 * table of libc addresses filled at load time, which this library's symbols take the place of;
 * Python's os.open, os.fsync and os.replace (tmt making a journal) reach the same symbols.
 *
 * A record: u32 op, u32 name length, u64 inode, u64 offset, u64 length, the name (relative to
 * the directory, "" for the directory itself), then `length` bytes of data: a write's bytes,
 * or for a rename the old name (the record's name is the new one; "" for outside the
 * directory). Data and syncs name the inode the fd was opened on, so a file renamed or
 * removed while open is still followed; a create or rename names the inode now at the name.
 * A sync is two records, its start and its end, with the same token in the offset field.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum { OP_WRITE = 1, OP_TRUNCATE = 2, OP_SYNC = 3, OP_CREATE = 4, OP_UNLINK = 5,
       OP_RENAME = 6, OP_EXTEND = 7, OP_NOTE = 8, OP_SYNC_START = 9 };

#define MAX_FD 65536

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char dir[PATH_MAX];
static size_t dir_len;
static int log_fd = -1;
static char *names[MAX_FD]; /* the tracked name of each open fd, NULL if untracked */
static uint64_t inodes[MAX_FD]; /* and the inode it was opened on */

static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static int (*real_close)(int);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off64_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static int (*real_ftruncate)(int, off_t);
static int (*real_ftruncate64)(int, off64_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_fallocate)(int, int, off_t, off_t);
static int (*real_fallocate64)(int, int, off64_t, off64_t);
static int (*real_posix_fallocate)(int, off_t, off_t);
static int (*real_posix_fallocate64)(int, off64_t, off64_t);
static int (*real_unlink)(const char *);
static int (*real_unlinkat)(int, const char *, int);
static int (*real_rename)(const char *, const char *);
static int (*real_renameat)(int, const char *, int, const char *);

#define RESOLVE(name) real_##name = dlsym(RTLD_NEXT, #name)

__attribute__((constructor)) static void init(void) {
    RESOLVE(open); RESOLVE(open64); RESOLVE(openat); RESOLVE(openat64); RESOLVE(close);
    RESOLVE(write); RESOLVE(pwrite); RESOLVE(pwrite64); RESOLVE(writev); RESOLVE(ftruncate);
    RESOLVE(ftruncate64); RESOLVE(fsync); RESOLVE(fdatasync); RESOLVE(fallocate);
    RESOLVE(fallocate64); RESOLVE(posix_fallocate); RESOLVE(posix_fallocate64);
    RESOLVE(unlink); RESOLVE(unlinkat); RESOLVE(rename); RESOLVE(renameat);
    const char *d = getenv("DISK_MODEL_DIR"), *l = getenv("DISK_MODEL_LOG");
    if (d == NULL || l == NULL || strlen(d) + 1 >= sizeof dir) return;
    strcpy(dir, d);
    dir_len = strlen(dir);
    while (dir_len > 1 && dir[dir_len - 1] == '/') dir[--dir_len] = 0;
    log_fd = (int)syscall(SYS_openat, AT_FDCWD, l, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

/* Write all of buf to the log (the raw syscall: never back through these wrappers). */
static void put(const void *buf, size_t n) {
    const char *p = buf;
    while (n > 0) {
        ssize_t w = syscall(SYS_write, log_fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) abort(); /* a log with a hole would be a lie about the disk */
        p += w;
        n -= (size_t)w;
    }
}

static void record(uint32_t op, const char *name, uint64_t inode, uint64_t offset,
                   uint64_t length, const void *data) {
    int saved = errno;
    struct { uint32_t op, name_len; uint64_t inode, offset, length; } __attribute__((packed))
        head = {op, (uint32_t)strlen(name), inode, offset, length};
    put(&head, sizeof head);
    put(name, head.name_len);
    if (data != NULL) put(data, length);
    errno = saved;
}

static uint64_t inode_at(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

/* The name of path inside the directory ("" for the directory itself), or NULL if outside. */
static const char *inside(int dirfd, const char *path, char *buf) {
    if (log_fd < 0 || path == NULL) return NULL;
    if (path[0] != '/') {
        if (dirfd != AT_FDCWD) return NULL; /* nothing here opens relative to another fd */
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof cwd) == NULL) return NULL;
        if ((size_t)snprintf(buf, PATH_MAX, "%s/%s", cwd, path) >= PATH_MAX) return NULL;
    } else if ((size_t)snprintf(buf, PATH_MAX, "%s", path) >= PATH_MAX) {
        return NULL;
    }
    if (strncmp(buf, dir, dir_len) != 0) return NULL;
    if (buf[dir_len] == 0) return "";
    if (buf[dir_len] != '/' || strchr(buf + dir_len + 1, '/') != NULL) return NULL;
    return buf + dir_len + 1;
}

static int opened(int dirfd, const char *path, int flags, mode_t mode, int at, int big) {
    char buf[PATH_MAX];
    const char *name = inside(dirfd, path, buf);
    int fd;
    if (name == NULL) {
        if (at) return (big ? real_openat64 : real_openat)(dirfd, path, flags, mode);
        return (big ? real_open64 : real_open)(path, flags, mode);
    }
    pthread_mutex_lock(&lock);
    struct stat st;
    int existed = stat(buf, &st) == 0;
    if (at) fd = (big ? real_openat64 : real_openat)(dirfd, path, flags, mode);
    else fd = (big ? real_open64 : real_open)(path, flags, mode);
    if (fd >= 0 && fd < MAX_FD) {
        struct stat now;
        free(names[fd]);
        names[fd] = strdup(name);
        inodes[fd] = fstat(fd, &now) == 0 ? (uint64_t)now.st_ino : 0;
        if (!existed) record(OP_CREATE, name, inodes[fd], 0, 0, NULL);
        else if (flags & O_TRUNC) record(OP_TRUNCATE, name, inodes[fd], 0, 0, NULL);
    }
    pthread_mutex_unlock(&lock);
    return fd;
}

#define MODE_ARG                                                 \
    mode_t mode = 0;                                             \
    if (flags & (O_CREAT | __O_TMPFILE)) {                       \
        va_list ap;                                              \
        va_start(ap, flags);                                     \
        mode = va_arg(ap, mode_t);                               \
        va_end(ap);                                              \
    }

int open(const char *path, int flags, ...) { MODE_ARG return opened(AT_FDCWD, path, flags, mode, 0, 0); }
int open64(const char *path, int flags, ...) { MODE_ARG return opened(AT_FDCWD, path, flags, mode, 0, 1); }
int openat(int d, const char *path, int flags, ...) { MODE_ARG return opened(d, path, flags, mode, 1, 0); }
int openat64(int d, const char *path, int flags, ...) { MODE_ARG return opened(d, path, flags, mode, 1, 1); }

/* The fortified entry points a program built with _FORTIFY_SOURCE calls (never with O_CREAT). */
int __open_2(const char *path, int flags) { return opened(AT_FDCWD, path, flags, 0, 0, 0); }
int __open64_2(const char *path, int flags) { return opened(AT_FDCWD, path, flags, 0, 0, 1); }
int __openat_2(int d, const char *path, int flags) { return opened(d, path, flags, 0, 1, 0); }
int __openat64_2(int d, const char *path, int flags) { return opened(d, path, flags, 0, 1, 1); }

static int tracked(int fd) { return log_fd >= 0 && fd >= 0 && fd < MAX_FD && names[fd] != NULL; }

int close(int fd) {
    if (!tracked(fd)) return real_close(fd);
    pthread_mutex_lock(&lock);
    free(names[fd]);
    names[fd] = NULL;
    int rc = real_close(fd);
    pthread_mutex_unlock(&lock);
    return rc;
}

ssize_t write(int fd, const void *buf, size_t n) {
    if (!tracked(fd)) return real_write(fd, buf, n);
    pthread_mutex_lock(&lock);
    ssize_t w = real_write(fd, buf, n);
    off_t at = lseek(fd, 0, SEEK_CUR) - w; /* after: right for O_APPEND too */
    if (w > 0) record(OP_WRITE, names[fd], inodes[fd], (uint64_t)at, (uint64_t)w, buf);
    pthread_mutex_unlock(&lock);
    return w;
}

ssize_t writev(int fd, const struct iovec *iov, int count) {
    if (!tracked(fd)) return real_writev(fd, iov, count);
    pthread_mutex_lock(&lock);
    ssize_t w = real_writev(fd, iov, count);
    off_t at = lseek(fd, 0, SEEK_CUR) - w;
    for (ssize_t left = w, i = 0; left > 0 && i < count; i++) {
        size_t part = iov[i].iov_len < (size_t)left ? iov[i].iov_len : (size_t)left;
        record(OP_WRITE, names[fd], inodes[fd], (uint64_t)at, part, iov[i].iov_base);
        at += (off_t)part;
        left -= (ssize_t)part;
    }
    pthread_mutex_unlock(&lock);
    return w;
}

static ssize_t pwritten(int fd, const void *buf, size_t n, off64_t at, int big) {
    if (!tracked(fd)) return big ? real_pwrite64(fd, buf, n, at) : real_pwrite(fd, buf, n, at);
    pthread_mutex_lock(&lock);
    ssize_t w = big ? real_pwrite64(fd, buf, n, at) : real_pwrite(fd, buf, n, at);
    if (w > 0) record(OP_WRITE, names[fd], inodes[fd], (uint64_t)at, (uint64_t)w, buf);
    pthread_mutex_unlock(&lock);
    return w;
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t at) { return pwritten(fd, buf, n, at, 0); }
ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t at) { return pwritten(fd, buf, n, at, 1); }

static int truncated(int fd, off64_t size, int big) {
    if (!tracked(fd)) return big ? real_ftruncate64(fd, size) : real_ftruncate(fd, size);
    pthread_mutex_lock(&lock);
    int rc = big ? real_ftruncate64(fd, size) : real_ftruncate(fd, size);
    if (rc == 0) record(OP_TRUNCATE, names[fd], inodes[fd], (uint64_t)size, 0, NULL);
    pthread_mutex_unlock(&lock);
    return rc;
}

int ftruncate(int fd, off_t size) { return truncated(fd, size, 0); }
int ftruncate64(int fd, off64_t size) { return truncated(fd, size, 1); }

static int synced(int fd, int data_only) {
    if (!tracked(fd)) return data_only ? real_fdatasync(fd) : real_fsync(fd);
    /* Not under the lock (a sync is slow; other files' writes go on meanwhile). Its start is
     * logged too, and the model counts as synced only what was logged before the start: a
     * write that races with the sync may or may not have made it, so it is taken as lost. */
    static uint64_t tokens;
    char name[PATH_MAX];
    pthread_mutex_lock(&lock);
    uint64_t token = ++tokens, inode = inodes[fd];
    snprintf(name, sizeof name, "%s", names[fd]);
    record(OP_SYNC_START, name, inode, token, 0, NULL);
    pthread_mutex_unlock(&lock);
    int rc = data_only ? real_fdatasync(fd) : real_fsync(fd);
    if (rc == 0) {
        pthread_mutex_lock(&lock);
        record(OP_SYNC, name, inode, token, 0, NULL);
        pthread_mutex_unlock(&lock);
    }
    return rc;
}

int fsync(int fd) { return synced(fd, 0); }
int fdatasync(int fd) { return synced(fd, 1); }

static int extended(int fd, off64_t offset, off64_t len, int rc) {
    if (rc == 0 && tracked(fd)) {
        pthread_mutex_lock(&lock);
        record(OP_EXTEND, names[fd], inodes[fd], (uint64_t)(offset + len), 0, NULL);
        pthread_mutex_unlock(&lock);
    }
    return rc;
}

int fallocate(int fd, int mode, off_t offset, off_t len) {
    int rc = real_fallocate(fd, mode, offset, len);
    return mode == 0 ? extended(fd, offset, len, rc) : rc;
}
int fallocate64(int fd, int mode, off64_t offset, off64_t len) {
    int rc = real_fallocate64(fd, mode, offset, len);
    return mode == 0 ? extended(fd, offset, len, rc) : rc;
}
int posix_fallocate(int fd, off_t offset, off_t len) {
    return extended(fd, offset, len, real_posix_fallocate(fd, offset, len));
}
int posix_fallocate64(int fd, off64_t offset, off64_t len) {
    return extended(fd, offset, len, real_posix_fallocate64(fd, offset, len));
}

static int removed(int dirfd, const char *path, int rc) {
    char buf[PATH_MAX];
    const char *name = inside(dirfd, path, buf);
    if (rc == 0 && name != NULL) {
        pthread_mutex_lock(&lock);
        record(OP_UNLINK, name, 0, 0, 0, NULL);
        pthread_mutex_unlock(&lock);
    }
    return rc;
}

int unlink(const char *path) { return removed(AT_FDCWD, path, real_unlink(path)); }
int unlinkat(int d, const char *path, int flags) { return removed(d, path, real_unlinkat(d, path, flags)); }

static int renamed(int from_dir, const char *from, int to_dir, const char *to, int rc) {
    char a[PATH_MAX], b[PATH_MAX];
    const char *from_name = inside(from_dir, from, a), *to_name = inside(to_dir, to, b);
    if (rc == 0 && (from_name != NULL || to_name != NULL)) {
        if (from_name == NULL) from_name = "";
        pthread_mutex_lock(&lock);
        record(OP_RENAME, to_name != NULL ? to_name : "", to_name != NULL ? inode_at(b) : 0, 0,
               strlen(from_name), from_name);
        pthread_mutex_unlock(&lock);
    }
    return rc;
}

int rename(const char *from, const char *to) {
    return renamed(AT_FDCWD, from, AT_FDCWD, to, real_rename(from, to));
}
int renameat(int fd, const char *from, int td, const char *to) {
    return renamed(fd, from, td, to, real_renameat(fd, from, td, to));
}

/* A mark of the process's own in the log, in order with the file operations around it. */
void disk_model_note(const char *text) {
    if (log_fd < 0) return;
    pthread_mutex_lock(&lock);
    record(OP_NOTE, text, 0, 0, 0, NULL);
    pthread_mutex_unlock(&lock);
}
