/* SPDX-License-Identifier: BSD-3-Clause */
/* Registration of the per-packet metadata field (see pkt.h). */
#include <errno.h>

#include <rte_errno.h>

#include "core/pkt.h"

int ph_pkt_meta_offset = -1;

int
ph_pkt_meta_register(void)
{
	static const struct rte_mbuf_dynfield desc = {
	        .name = "polyhost_pkt_meta",
	        .size = sizeof(struct ph_pkt_meta),
	        .align = __alignof__(struct ph_pkt_meta),
	};
	int off = rte_mbuf_dynfield_register(&desc);

	if (off < 0)
		return -rte_errno;
	ph_pkt_meta_offset = off;
	return 0;
}
