#include "verdict.h"

const char *verdict_status_name(enum verdict_status status)
{
        switch (status) {
        case VERDICT_OK:
                return "ok";
        case VERDICT_UNKNOWN:
                return "could-not-evaluate";
        case VERDICT_VIOLATED:
                return "violated";
        }
        return "invalid";
}

const char *verdict_tier_name(enum verdict_tier tier)
{
        switch (tier) {
        case VERDICT_TIER_HALT:
                return "halt";
        case VERDICT_TIER_ALERT:
                return "alert";
        case VERDICT_TIER_TRACK:
                return "track";
        }
        return "invalid";
}

enum verdict_status verdict_status_combine(enum verdict_status so_far, enum verdict_status next)
{
        if (so_far == VERDICT_VIOLATED || next == VERDICT_VIOLATED)
                return VERDICT_VIOLATED;
        if (so_far == VERDICT_UNKNOWN || next == VERDICT_UNKNOWN)
                return VERDICT_UNKNOWN;
        if (so_far == VERDICT_OK && next == VERDICT_OK)
                return VERDICT_OK;
        /* A value outside the enum is a programming error: never report it as ok. */
        return VERDICT_UNKNOWN;
}

int verdict_exit_code(enum verdict_status combined)
{
        switch (combined) {
        case VERDICT_OK:
                return 0;
        case VERDICT_VIOLATED:
                return 1;
        case VERDICT_UNKNOWN:
                return 2;
        }
        return 2;
}
