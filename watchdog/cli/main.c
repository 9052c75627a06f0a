/* relaywatch: entry point. All behaviour lives in cli.c and below. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int main(int argc, char **argv)
{
        int rc = cli_main(argc, argv, stdout, stderr);

        /* Output that never arrived (a full disk, a closed pipe) is a failure. */
        if (fflush(stdout) != 0 || ferror(stdout)) {
                fprintf(stderr, "relaywatch: cannot write output: %s\n", strerror(errno));
                return rc != CLI_EXIT_OK ? rc : CLI_EXIT_FAILURE;
        }
        return rc;
}
