#include "cli_run.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "cli.h"

struct cli_run cli_run(int argc, char **argv)
{
        struct cli_run r;
        size_t outlen, errlen;
        FILE *out = open_memstream(&r.out, &outlen);
        FILE *err = open_memstream(&r.err, &errlen);

        assert_non_null(out);
        assert_non_null(err);
        r.code = cli_main(argc, argv, out, err);
        fclose(out);
        fclose(err);
        return r;
}

void cli_run_free(struct cli_run *r)
{
        free(r->out);
        free(r->err);
}
