/* relaywatch: entry point. All behaviour lives in cli.c and below. */
#include <stdio.h>

#include "cli.h"

int main(int argc, char **argv)
{
        return cli_main(argc, argv, stdout, stderr);
}
