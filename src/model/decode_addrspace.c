#include "decode.h"
#include "decode_internal.h"

#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "banned.h"

static const char *const report_keys[] = {"path", "format", NULL};

void ipam_decode_report(struct decoder *dc, const struct ipam_node *n)
{
	struct ipam_report_cfg *c = &dc->d->report;
	const struct ipam_node *map, *val;
	struct ipam_str s = {0};
	const char *key;
	char *ok;
	size_t i;

	map = ipam_decode_map(dc, n, "report", report_keys, "'report'", &ok);
	if (!map)
		return;
	c->pos = map->pos;
	FOR_EACH_KEY(map, ok, i, key, val)
	{
		if (!strcmp(key, "path")) {
			ipam_decode_string(dc, val, key, &c->path);
			continue;
		}
		if (ipam_decode_string(dc, val, key, &s))
			continue;
		if (ipam_report_format_parse(s.value, &c->format))
			ipam_diag_error(dc->diags, &s.pos,
					"'format' must be html, markdown or "
					"json, got '%s'",
					s.value);
		else
			c->format_pos = s.pos;
		free(s.value);
		s.value = NULL;
	}
	if (!c->path.value)
		ipam_diag_error(dc->diags, &map->pos,
				"'report' needs 'path': the file the report "
				"is written to");
	free(ok);
}
