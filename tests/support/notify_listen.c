/*
 * notify_listen SOCKET SECONDS: stands in for systemd's notify socket in
 * tests. Binds a datagram socket at the path SOCKET, then prints every
 * datagram it receives on one line (newlines inside shown as '|'), until
 * SECONDS pass without one or a datagram holds STOPPING=1.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        struct sockaddr_un addr;
        char buf[4096];
        char *end = NULL;
        long seconds = argc == 3 ? strtol(argv[2], &end, 10) : 0;
        int fd;

        if (argc != 3 || end == argv[2] || *end != '\0' || seconds <= 0 || seconds > 3600) {
                fprintf(stderr, "usage: notify_listen SOCKET SECONDS\n");
                return 64;
        }
        memset(&addr, 0, sizeof addr);
        addr.sun_family = AF_UNIX;
        if (strlen(argv[1]) >= sizeof addr.sun_path) {
                fprintf(stderr, "notify_listen: %s: path too long\n", argv[1]);
                return 1;
        }
        memcpy(addr.sun_path, argv[1], strlen(argv[1]) + 1);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
                fprintf(stderr, "notify_listen: %s: %s\n", argv[1], strerror(errno));
                return 1;
        }
        for (;;) {
                struct pollfd p = {fd, POLLIN, 0};
                ssize_t n;
                ssize_t i;

                if (poll(&p, 1, (int)seconds * 1000) <= 0)
                        break;
                n = recv(fd, buf, sizeof buf - 1, 0);
                if (n < 0)
                        break;
                for (i = 0; i < n; i++)
                        if (buf[i] == '\n')
                                buf[i] = '|';
                buf[n] = '\0';
                printf("%s\n", buf);
                fflush(stdout);
                if (strstr(buf, "STOPPING=1") != NULL)
                        break;
        }
        close(fd);
        unlink(argv[1]);
        return 0;
}
