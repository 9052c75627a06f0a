#include "test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct sockaddr_in loopback(uint16_t port)
{
        struct sockaddr_in addr;

        memset(&addr, 0, sizeof addr);
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return addr;
}

uint16_t test_free_port(void)
{
        struct sockaddr_in addr = loopback(0);
        socklen_t len = sizeof addr;
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        uint16_t port = 0;

        if (fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
            getsockname(fd, (struct sockaddr *)&addr, &len) == 0)
                port = ntohs(addr.sin_port);
        if (fd >= 0)
                close(fd);
        return port;
}

int test_port_accepts(uint16_t port)
{
        struct sockaddr_in addr = loopback(port);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        int ok = fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0;

        if (fd >= 0)
                close(fd);
        return ok;
}

char *test_read_file(const char *path)
{
        FILE *f = fopen(path, "r");
        char *text = NULL;
        long len;

        if (f == NULL)
                return NULL;
        if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
                text = calloc(1, (size_t)len + 1);
                if (text != NULL && fread(text, 1, (size_t)len, f) != (size_t)len) {
                        free(text);
                        text = NULL;
                }
        }
        fclose(f);
        return text;
}

void test_url_with_database(const char *url, const char *db, char *out, size_t cap)
{
        const char *slash = strrchr(url, '/');
        int keep = slash ? (int)(slash - url) : (int)strlen(url);

        snprintf(out, cap, "%.*s/%s", keep, url, db);
}
