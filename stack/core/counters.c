/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Names for the counters of counters.h, shared by telemetry, phctl and the
 * shutdown report.
 */
#include <string.h>

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

int
ph_drop_by_name(const char *name)
{
	for (int i = 0; i < PH_DROP_MAX; i++)
		if (strcmp(ph_drop_names[i], name) == 0)
			return i;
	return -1;
}

int
ph_mib_by_name(const char *name)
{
	for (int i = 0; i < PH_MIB_MAX; i++)
		if (strcmp(ph_mib_names[i], name) == 0)
			return i;
	return -1;
}
