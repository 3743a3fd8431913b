/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Names for the counters of counters.h, shared by telemetry, phctl and the
 * shutdown report.
 */
#include <stddef.h>

#include "core/counters.h"

const char *const ph_drop_names[PH_DROP_MAX] = {
#define PH_X(name, str, mib) [PH_DROP_##name] = str,
        PH_DROPS(PH_X)
#undef PH_X
};

const uint8_t ph_drop_mib[PH_DROP_MAX] = {
#define PH_X(name, str, mib) [PH_DROP_##name] = PH_MIB_##mib,
        PH_DROPS(PH_X)
#undef PH_X
};

const char *const ph_mib_names[PH_MIB_MAX] = {
#define PH_X(name) [PH_MIB_##name] = #name,
        PH_MIBS(PH_X)
#undef PH_X
};

const struct ph_ctr_family ph_ctr_families[PH_CTR_FAMILIES] = {
        {"counters", ph_mib_names, PH_MIB_MAX, offsetof(struct ph_counters, mib)},
        {"drops", ph_drop_names, PH_DROP_MAX, offsetof(struct ph_counters, drop)},
};
