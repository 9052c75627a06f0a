#include "sdnotify.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "rwclock.h"

/*
 * Fills `sa` from the NOTIFY_SOCKET value `name`; *len gets the address
 * length to pass to sendto. Abstract names carry no trailing NUL.
 */
static int notify_address(const char *name, struct sockaddr_un *sa, socklen_t *len,
                          struct rwerr *err)
{
        size_t n = strlen(name);

        memset(sa, 0, sizeof *sa);
        sa->sun_family = AF_UNIX;
        if (name[0] == '/') {
                if (n >= sizeof sa->sun_path)
                        return rwerr_set(err, RW_ERR_RANGE,
                                         "NOTIFY_SOCKET: path of %zu bytes, longer than the %zu an "
                                         "AF_UNIX socket address holds",
                                         n, sizeof sa->sun_path - 1);
                memcpy(sa->sun_path, name, n + 1);
                *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
                return RW_OK;
        }
        if (name[0] == '@') {
                if (n < 2)
                        return rwerr_set(err, RW_ERR_INVALID,
                                         "NOTIFY_SOCKET=\"@\": an abstract socket name is empty");
                if (n > sizeof sa->sun_path)
                        return rwerr_set(err, RW_ERR_RANGE,
                                         "NOTIFY_SOCKET: abstract name of %zu bytes, longer than "
                                         "the %zu an AF_UNIX socket address holds",
                                         n - 1, sizeof sa->sun_path - 1);
                sa->sun_path[0] = '\0';
                memcpy(sa->sun_path + 1, name + 1, n - 1);
                *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
                return RW_OK;
        }
        return rwerr_set(err, RW_ERR_INVALID,
                         "NOTIFY_SOCKET=\"%.80s\": neither an absolute path (/...) nor an abstract "
                         "socket name (@...)",
                         name);
}

int sdnotify_send(const char *state, struct rwerr *err)
{
        const char *name = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa;
        socklen_t salen = 0;
        size_t len;
        ssize_t sent;
        int fd, rc;

        /* The state is checked first, so a caller's mistake shows also outside systemd. */
        if (state == NULL || state[0] == '\0')
                return rwerr_set(err, RW_ERR_INVALID, "sd_notify: empty state, nothing to send");
        len = strlen(state);
        if (len >= SDNOTIFY_STATE_MAX)
                return rwerr_set(err, RW_ERR_RANGE,
                                 "sd_notify: state of %zu bytes, the limit is %d", len,
                                 SDNOTIFY_STATE_MAX - 1);
        if (name == NULL || name[0] == '\0')
                return RW_OK;
        if ((rc = notify_address(name, &sa, &salen, err)) != RW_OK)
                return rc;
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return rwerr_set(err, RW_ERR_IO, "sd_notify: socket(AF_UNIX, SOCK_DGRAM): %s",
                                 strerror(errno));
        do
                sent = sendto(fd, state, len, MSG_NOSIGNAL, (const struct sockaddr *)&sa, salen);
        while (sent < 0 && errno == EINTR);
        if (sent < 0)
                rc = rwerr_set(err, RW_ERR_IO, "sd_notify: sending to NOTIFY_SOCKET=%.120s: %s",
                               name, strerror(errno));
        else if ((size_t)sent != len)
                rc = rwerr_set(err, RW_ERR_IO,
                               "sd_notify: NOTIFY_SOCKET=%.120s took %zd of %zu bytes", name, sent,
                               len);
        (void)close(fd);
        return rc;
}

int sdnotify_watchdog_interval(uint64_t *usec)
{
        const char *text = getenv("WATCHDOG_USEC");
        const char *pid_text = getenv("WATCHDOG_PID");
        unsigned long long v;
        char *end = NULL;

        if (text == NULL || text[0] < '0' || text[0] > '9')
                return 0;
        errno = 0;
        v = strtoull(text, &end, 10);
        if (errno != 0 || *end != '\0' || v == 0)
                return 0;
        if (pid_text != NULL) {
                unsigned long long pid;

                if (pid_text[0] < '0' || pid_text[0] > '9')
                        return 0;
                errno = 0;
                pid = strtoull(pid_text, &end, 10);
                if (errno != 0 || *end != '\0' || pid != (unsigned long long)getpid())
                        return 0;
        }
        *usec = (uint64_t)v;
        return 1;
}

int sdnotify_ready(const char *status, struct rwerr *err)
{
        char state[SDNOTIFY_STATE_MAX];

        if (status == NULL)
                return sdnotify_send("READY=1", err);
        (void)snprintf(state, sizeof state, "READY=1\nSTATUS=%s", status);
        return sdnotify_send(state, err);
}

int sdnotify_status(struct rwerr *err, const char *fmt, ...)
{
        char state[SDNOTIFY_STATE_MAX];
        const size_t prefix = sizeof "STATUS=" - 1;
        va_list ap;

        memcpy(state, "STATUS=", prefix);
        va_start(ap, fmt);
        (void)vsnprintf(state + prefix, sizeof state - prefix, fmt, ap);
        va_end(ap);
        return sdnotify_send(state, err);
}

int sdnotify_watchdog(struct rwerr *err)
{
        return sdnotify_send("WATCHDOG=1", err);
}

int sdnotify_reloading(struct rwerr *err)
{
        char state[64];

        (void)snprintf(state, sizeof state, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64,
                       rwclock_mono_us());
        return sdnotify_send(state, err);
}

int sdnotify_stopping(struct rwerr *err)
{
        return sdnotify_send("STOPPING=1", err);
}
